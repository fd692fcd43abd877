"""The package declares what it imports, requirements.txt installs it, and a wheel of it runs.

- Every third-party module the package imports comes from a distribution that
  ``pyproject.toml`` declares (in the core dependencies or an extra), unless the import is
  optional (inside ``try: ... except ImportError``).
- ``requirements.txt`` installs the package with every extra, and repeats each declared
  requirement with the same versions (the README's hub install reads those lines alone).
- A wheel, installed into a fresh virtual environment, imports every module of the package,
  simulates, answers ``python -m stickylab.grade --help`` and serves a request through the
  live lab (marked ``slow``). The environment sees this one's site-packages, where the
  declared requirements are checked to be installed at the declared versions: installing
  them all afresh (JupyterLab, Dask, Playwright...) would take minutes and a network.
"""

import ast
import importlib.metadata as metadata
import json
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "stickylab"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]

#: Modules imported without a try/except that no declared distribution names, and why that is right.
BROUGHT_ALONG = {
    "tornado": "imported only where jupyterhub (optional) was found, which depends on it",
}


def declared() -> list[Requirement]:
    """Every requirement pyproject.toml declares: the core dependencies, then each extra's."""
    lines = PROJECT["dependencies"] + [line for extra in EXTRAS.values() for line in extra]
    return [Requirement(line) for line in lines]


def third_party_imports() -> dict[str, list[str]]:
    """Top-level module -> the package's files that import it outside ``try: ... except ImportError``."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        optional = {id(node) for tried in ast.walk(tree) if isinstance(tried, ast.Try)
                    and any(_catches_import_error(h) for h in tried.handlers)
                    for stmt in tried.body for node in ast.walk(stmt)}
        for node in ast.walk(tree):
            if id(node) in optional:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in ("stickylab", "__future__"):
                    found.setdefault(top, []).append(str(path.relative_to(PACKAGE)))
    return found


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(k, ast.Name) and k.id in ("ImportError", "ModuleNotFoundError") for k in kinds)


def distributions_of(requirement: Requirement) -> set[str]:
    """The distribution a requirement names, and those its extras bring (``dask[distributed]``)."""
    names = {canonicalize_name(requirement.name)}
    for line in metadata.requires(requirement.name) or []:
        brought = Requirement(line)
        if brought.marker and any(brought.marker.evaluate({"extra": e}) for e in requirement.extras):
            names.add(canonicalize_name(brought.name))
    return names


def test_every_module_the_package_imports_comes_from_a_declared_distribution():
    providers = metadata.packages_distributions()
    names = set().union(*(distributions_of(r) for r in declared()))
    undeclared = {}
    for module, files in sorted(third_party_imports().items()):
        if module in BROUGHT_ALONG:
            continue
        dists = {canonicalize_name(d) for d in providers.get(module, [])}
        if not dists & names:
            undeclared[module] = (sorted(dists) or ["(not installed)"], sorted(set(files)))
    assert not undeclared, f"imported, but no distribution in pyproject.toml provides them: {undeclared}"


def test_the_extras_are_grade_live_and_dev():
    assert set(EXTRAS) == {"grade", "live", "dev"}
    names = {extra: {canonicalize_name(Requirement(line).name) for line in lines}
             for extra, lines in EXTRAS.items()}
    grade = {"nbgrader", "nbclient", "jupyter-client", "pyzmq", "traitlets", "dask", "cryptography"}
    assert grade <= names["grade"]
    assert {"aiohttp", "redis", "pyjwt"} <= names["live"]
    assert {"pytest", "ruff", "nbval"} <= names["dev"]


def requirement_lines() -> list[str]:
    return [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_requirements_install_the_package_with_every_extra():
    editable = [line for line in requirement_lines() if line.startswith("-e")]
    assert len(editable) == 1, editable
    extras = re.fullmatch(r"-e\s+\.\[([\w,\s]+)\]", editable[0])
    assert extras, f"requirements.txt should install the package with its extras: {editable[0]!r}"
    assert {e.strip() for e in extras.group(1).split(",")} == set(EXTRAS)


def test_requirements_repeat_every_declared_requirement_with_its_versions():
    """The hub install reads requirements.txt without its ``-e`` line: the lines must be the package's."""
    def by_name(requirements):
        out = {}
        for r in requirements:
            key = canonicalize_name(r.name)
            assert out.get(key, r) == r, f"{r.name} is declared twice, differently: {out[key]} and {r}"
            out[key] = r
        return out

    listed = by_name(Requirement(line) for line in requirement_lines() if not line.startswith("-e"))
    package = by_name(declared())
    assert sorted(set(package) - set(listed)) == [], "declared in pyproject.toml, missing in requirements.txt"
    assert sorted(set(listed) - set(package)) == [], "in requirements.txt, not declared in pyproject.toml"
    differ = {name: (str(listed[name]), str(package[name])) for name in package
              if (listed[name].specifier, listed[name].extras)
              != (package[name].specifier, package[name].extras)}
    assert not differ, f"requirements.txt and pyproject.toml give different versions: {differ}"


# -- a wheel in a fresh environment -----------------------------------------------------------------

IN_THE_VENV = textwrap.dedent('''
    import importlib, importlib.metadata as metadata, json, pkgutil, sys
    from pathlib import Path
    from packaging.requirements import Requirement

    import stickylab as sl

    here = Path(sl.__file__).resolve()
    assert Path(sys.prefix).resolve() in here.parents, f"stickylab was imported from {here}, not the wheel"
    # The wheel's metadata declares the requirements of pyproject.toml, and each is installed.
    declared = [Requirement(r) for r in metadata.requires("stickylab")]
    missing = []
    for r in declared:
        try:
            version = metadata.version(r.name)
        except metadata.PackageNotFoundError:
            missing.append(f"{r} (not installed)")
            continue
        if version not in r.specifier:
            missing.append(f"{r} ({version} installed)")
    assert not missing, f"declared requirements not met: {missing}"
    modules = [m.name for m in pkgutil.walk_packages(sl.__path__, "stickylab.")
               if not m.name.endswith("__main__")]
    for name in modules:
        importlib.import_module(name)
    res = sl.simulate(sl.Scenario(users=50, instances=2, duration=60.0, seed=1), sl.routers.CookieInsert())
    assert res.summary()["requests"] > 0

    from stickylab import live

    with live.Lab("CookieInsert", instances=1) as lab:
        reply = lab.send(sl.Browser(), "/login")
    print(json.dumps({"declared": sorted(str(r) for r in declared), "modules": len(modules),
                      "status": reply.status}))
''')


def _key(line: str) -> tuple:
    """A requirement by what it means: its marker evaluated here, for each extra and for none."""
    r = Requirement(line)
    when = tuple(r.marker is None or r.marker.evaluate({"extra": extra or ""}) for extra in ["", *EXTRAS])
    return canonicalize_name(r.name), str(r.specifier), sorted(r.extras), when


def _in_extra(line: str, extra: str) -> str:
    """``line`` as the wheel's metadata lists it for ``extra`` (its own marker kept)."""
    r = Requirement(line)
    marker = f"({r.marker}) and " if r.marker else ""
    return f'{str(r).split(";")[0]}; {marker}extra == "{extra}"'


@pytest.mark.slow
def test_a_wheel_with_its_extras_runs_the_course_grading_and_the_live_lab(tmp_path):
    pytest.importorskip("aiohttp", reason="the live lab needs aiohttp (requirements.txt)")
    source = tmp_path / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    done = subprocess.run([*pip, "wheel", "--no-deps", "--wheel-dir", str(tmp_path), str(source)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("stickylab-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
                   check=True, timeout=120)
    python = str(venv / "bin" / "python")
    done = subprocess.run([*pip, "--python", python, "install", "--no-deps", str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]

    done = subprocess.run([python, "-c", IN_THE_VENV], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    expected = [*PROJECT["dependencies"],
                *(_in_extra(line, extra) for extra, lines in EXTRAS.items() for line in lines)]
    assert sorted(map(_key, report["declared"])) == sorted(map(_key, expected))
    assert report["modules"] > 50 and report["status"] == 200

    done = subprocess.run([python, "-m", "stickylab.grade", "--help"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower()
