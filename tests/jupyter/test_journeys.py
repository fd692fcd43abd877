"""The learner's and the instructor's journeys, in a real JupyterLab driven by a real Chromium.

One JupyterLab server, started the way the README says (``python -m stickylab.jupyter``), serves
a scratch copy of the course (JupyterLab autosaves: the checkout is never opened) to headless
Chromium at a laptop's 1366x768:

- the first screen: the start page, no news prompt, and what to do next without scrolling;
- a lesson: Run All, then a dashboard's slider and router drop-down change its plot and numbers;
- another lesson: Run All, then a dashboard's "Fail" button takes an instance and its sessions;
- lesson 7: Run All, then the request-flow view plays a run (the clock runs, dots fly, the crash's
  lost sessions show) and its slider scrubs it, with the counts Python computes from the same run;
- lesson 10: Run All, then a click on the touchable ring adds a node, a drag moves one and a click
  removes one, and the keys it says moved are the ones the package's ring moves;
- lesson 11: Run All, then the live dashboard redraws by itself while no cell runs, its Kill
  button takes a backend down and logs its users out, a failed button says why, Add starts a
  backend and the store drop-down starts a new lab;
- an exercise: a correct answer passes nbgrader's Validate button, a wrong one fails it, with
  the test's message;
- the class: the instructor generates and releases in the Formgrader, the learner fetches and
  submits in the Assignments tab, the instructor collects and autogrades, and sees the score.

The server runs as a fresh user would: its own empty Jupyter config, data, settings and
workspace folders, and its own exchange. Each journey's end state is saved as a screenshot in
``tests/.journeys/`` (made by the tests, and git-ignored by the ``.gitignore`` they put in it).
Every wait is bounded; the server's process group is stopped at the end.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
import submissions as subs

import stickylab as sl
from stickylab import widgets as sw

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(__file__).resolve().parent / ".journeys"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
VIEWPORT = {"width": 1366, "height": 768}
TOKEN = "stickylab-journeys"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium): "
                                                "the browser journeys need the system's Chromium"),
]

LESSON = "course/02_what_sticky_sessions_are.ipynb"
EVENTS_LESSON = "course/03_cookie_affinity.ipynb"        # a dashboard with failure buttons
FLOW_LESSON = "course/07_tradeoffs.ipynb"                 # the request-flow view, opening on a crash
RING_LESSON = "course/10_beyond_sticky.ipynb"             # the touchable ring
LIVE_LESSON = "course/11_real_traffic.ipynb"              # the live lab's dashboard, under real traffic
EXERCISE = "01_stateless_vs_sticky"
CLASS_ASSIGNMENT = "05_stick_table"
# A FirstSticky that remembers clients but sends every new one to the same instance.
WRONG_STICKY = '''class FirstSticky(sl.Router):
    """Always the first healthy instance: sticky, and no balance at all."""

    def route(self, request, pool):
        return pool.healthy[0]'''
RAW_WIDGET = re.compile(r"\b(VBox|HBox|Box|IntSlider|FloatSlider|Dropdown|Image|Output|HTML)\(")


# -- the server ------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - loopback only
        return answer.read()


class Lab:
    """A running ``python -m stickylab.jupyter`` on loopback, serving ``root``."""

    def __init__(self, root: Path, home: Path, exchange: Path):
        self.root, self.exchange = root, exchange
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "STICKYLAB_EXCHANGE"))}
        for name, folder in (("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                             ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                             ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
            (home / folder).mkdir(parents=True, exist_ok=True)
            env[name] = str(home / folder)
        env["STICKYLAB_EXCHANGE"] = str(exchange)
        from stickylab.grade import sandbox

        if sandbox.check():        # no bubblewrap here: the Formgrader grades our own solution unsandboxed
            env["STICKYLAB_UNSAFE_GRADING"] = "1"
        self.log_path = home / "lab.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stickylab.jupyter", "--no-browser", f"--ServerApp.port={self.port}",
             "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}"],
            cwd=root, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def wait_ready(self, seconds: float = 90.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n{self.log()}")
            try:
                json.loads(_get(f"{self.url}/api/status?token={TOKEN}"))
                return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"jupyter lab did not answer in {seconds:.0f} s:\n{self.log()}")

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        finally:
            self._log.close()

    def page_url(self, path: str = "", reset: bool = True) -> str:
        where = f"/lab/tree/{path}" if path else "/lab"
        return f"{self.url}{where}?token={TOKEN}" + ("&reset" if reset else "")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The course's JupyterLab on a scratch copy of the course, as a fresh user with a fresh exchange."""
    base = tmp_path_factory.mktemp("journeys")
    root = base / "course"
    root.mkdir()
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    for folder in ("course", "exercises", "solutions"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    server = Lab(root, base / "home", base / "exchange")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


# -- the browser -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        # Chromium's own sandbox cannot run as root (how most containers run); the page is ours.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def shots():
    SHOTS.mkdir(exist_ok=True)
    (SHOTS / ".gitignore").write_text("# screenshots of the browser journeys (test_journeys.py)\n*\n")
    return SHOTS


@pytest.fixture
def page(browser, lab, shots, request):
    """A laptop-sized page; its end state is saved as ``tests/.journeys/<test>.png``."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda error: page.js_errors.append(str(error)))
    try:
        yield page
    finally:
        try:
            page.screenshot(path=str(shots / f"{request.node.name}.png"))
        finally:
            context.close()


def open_notebook(page, lab, path: str):
    """Open ``path`` in a reset workspace; the visible notebook panel, once its kernel is idle."""
    page.goto(lab.page_url(path), timeout=60_000)
    notebook = page.locator(".jp-NotebookPanel:visible")
    wait_for_kernel(notebook)
    return notebook


def wait_for_kernel(notebook, seconds: float = 60.0) -> None:
    """Until the notebook's own kernel has started and is idle (the indicator says idle before that)."""
    notebook.locator(".jp-KernelName", has_text="Python").wait_for(timeout=seconds * 1000)
    notebook.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=seconds * 1000)


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=top).click()
    page.locator(".lm-Menu-itemLabel", has_text=item).first.click()


def run_all(page, notebook, seconds: float = 120.0) -> list[str]:
    """Run > Run All Cells; wait until no cell is queued or running; the code cells' prompts."""
    menu(page, "Run", "Run All Cells")
    indicator = notebook.locator(".jp-Notebook-ExecutionIndicator")
    prompts = notebook.locator(".jp-CodeCell .jp-InputArea-prompt")
    deadline, quiet = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        texts = [t.strip() for t in prompts.all_text_contents()]   # off-screen cells have no innerText
        busy = indicator.get_attribute("data-status") != "idle" or any("*" in t for t in texts)
        quiet = 0 if busy else quiet + 1
        if quiet >= 4:                    # idle for a second: Run All has finished (or stopped at an error)
            return texts
    raise AssertionError(f"Run All did not finish in {seconds:.0f} s: prompts {texts}")


def save(page, notebook) -> None:
    """Ctrl+S, and wait until the notebook's tab is no longer marked unsaved."""
    notebook.locator(".jp-Notebook").click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    page.locator(".lm-TabBar-tab.jp-mod-current:not(.jp-mod-dirty)").wait_for(timeout=20_000)


def in_viewport(locator) -> bool:
    box = locator.bounding_box()
    return bool(box) and box["y"] >= 0 and box["y"] + box["height"] <= VIEWPORT["height"] \
        and box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORT["width"]


def no_widget_errors(notebook, seconds: float = 15.0) -> None:
    """Every widget view has rendered (none still loading), none failed, none is shown as text."""
    deadline = time.monotonic() + seconds
    while "Loading widget" in notebook.text_content() and time.monotonic() < deadline:
        time.sleep(0.25)
    text = notebook.text_content()
    assert "Loading widget" not in text
    assert "Error displaying widget" not in text
    plain = notebook.locator(".jp-OutputArea-output[data-mime-type='text/plain']").all_text_contents()
    raw = [t for t in plain if RAW_WIDGET.search(t)]
    assert not raw, f"widgets shown as their model's text: {raw}"


# -- journeys --------------------------------------------------------------------------------------

def test_the_first_screen_is_the_start_page_with_what_to_do_next_and_no_news_prompt(page, lab):
    page.goto(f"{lab.url}/?token={TOKEN}", timeout=60_000)       # where the README's command lands
    page.wait_for_url(re.compile(r"/lab/tree/course/00_start\.ipynb"), timeout=30_000)
    notebook = page.locator(".jp-NotebookPanel:visible")
    wait_for_kernel(notebook)
    page.wait_for_timeout(2000)           # JupyterLab asks about news once it has restored
    assert "Jupyter news" not in page.locator("body").inner_text()
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    assert "@jupyterlab/apputils-extension:announcements" in config["disabledExtensions"]
    # Where they are, and what to do next, without scrolling.
    assert page.locator(".lm-TabBar-tab.jp-mod-current", has_text="00_start.ipynb").is_visible()
    shown = notebook.locator(".jp-RenderedMarkdown")
    for words in ("0. Start here", "when a load balancer should send a user back", "Run cells from the top",
                  "Shift+Enter"):
        assert in_viewport(shown.get_by_text(words).first), f"{words!r} is not on the first screen"
    # The file browser shows the course folder, with the lessons in order.
    listing = page.locator(".jp-DirListing-content").inner_text()
    assert listing.index("00_start") < listing.index("01_why") < listing.index("12_recap")
    assert not page.js_errors, page.js_errors


def _cell_with(notebook, text: str):
    return notebook.locator(".jp-CodeCell", has_text=text).last


def _summary(output) -> str:
    return output.locator(".widget-html-content table").inner_text()


def _wait_for_change(page, output, image_src: str, summary: str, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        redrawn = output.locator("img.widget-image").get_attribute("src") != image_src
        if redrawn and _summary(output) != summary:
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the dashboard did not redraw in {seconds:.0f} s (plot and numbers)")


def drag_to(page, slider, end: str, attempts: int = 3) -> None:
    """Drag a slider's handle with the mouse past one end of its track: ``end`` is "start" or "end"."""
    handle = slider.locator(".noUi-handle")
    for _ in range(attempts):
        handle.scroll_into_view_if_needed()
        page.wait_for_timeout(300)          # let the notebook settle: boxes measured now stay true
        box, track = handle.bounding_box(), slider.locator(".noUi-base").bounding_box()
        y = box["y"] + box["height"] / 2
        page.mouse.move(box["x"] + box["width"] / 2, y)
        page.mouse.down()
        page.mouse.move(track["x"] - 20 if end == "start" else track["x"] + track["width"] + 20, y, steps=8)
        page.mouse.up()
        bound = "aria-valuemin" if end == "start" else "aria-valuemax"
        if handle.get_attribute("aria-valuenow") == handle.get_attribute(bound):
            return
    raise AssertionError(f"the slider did not move to its {end}: at {handle.get_attribute('aria-valuenow')}")


def readable(image) -> None:
    """A plot is readable at a laptop's width: drawn at its own size (not shrunk), wholly in the window."""
    natural, shown = image.evaluate("i => [i.naturalWidth, i.getBoundingClientRect().width]")
    assert natural >= 600 and shown >= 0.95 * natural, f"plot {natural} px wide shown at {shown:.0f} px"
    assert image.bounding_box()["x"] + shown <= VIEWPORT["width"]


def _lost_share(summary: str) -> float:
    """The dashboard's "requests that lost their session" of the first router row, as a fraction."""
    row = [line for line in summary.splitlines() if "%" in line][0]
    return float(re.search(r"([\d.]+)%", row).group(1)) / 100


def run_lesson(page, lab, path: str):
    """Open a lesson, Run All: every cell ran, no error or warning shown, every widget rendered."""
    notebook = open_notebook(page, lab, path)
    prompts = run_all(page, notebook)
    errors = notebook.locator("[data-mime-type='application/vnd.jupyter.stderr']").all_text_contents()
    assert all(re.fullmatch(r"\[\d+\]:", t) for t in prompts) and not errors, (prompts, errors)
    no_widget_errors(notebook)
    return notebook


def no_errors_saved(page, lab, notebook, path: str) -> None:
    """Save; nothing anywhere in the saved notebook is an error, a warning or a traceback."""
    save(page, notebook)
    saved = nbformat.read(lab.root / path, as_version=4)
    code = [c for c in saved.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    bad = [o for c in code for o in c.outputs
           if o.output_type == "error" or (o.output_type == "stream" and o.name == "stderr")]
    assert not bad, bad


def test_a_lesson_runs_all_and_its_dashboard_answers_the_slider_and_the_router(page, lab):
    notebook = run_lesson(page, lab, LESSON)
    output = _cell_with(notebook, "scenario_dashboard").locator(".jp-OutputArea")
    output.scroll_into_view_if_needed()
    image = output.locator("img.widget-image")
    image.wait_for()
    readable(image)

    # It opens on a 15 s expiry (the table forgets users between requests: sessions are lost);
    # drag "expire" to its longest, 30 minutes, and nobody is logged out.
    src, summary = image.get_attribute("src"), _summary(output)
    assert _lost_share(summary) > 0.05, summary
    slider = output.locator(".widget-slider", has_text="expire")
    drag_to(page, slider, "end")
    _wait_for_change(page, output, src, summary)
    assert _lost_share(_summary(output)) == 0.0, _summary(output)

    # The router drop-down: round robin, no table at all.
    src, summary = image.get_attribute("src"), _summary(output)
    output.locator(".widget-dropdown select").select_option("RoundRobin (no table)")
    _wait_for_change(page, output, src, summary)
    assert "RoundRobin" in _summary(output) and _lost_share(_summary(output)) > 0.5, _summary(output)
    no_widget_errors(notebook)
    no_errors_saved(page, lab, notebook, LESSON)
    assert not page.js_errors, page.js_errors
    output.scroll_into_view_if_needed()


def test_a_dashboard_s_buttons_fail_an_instance_and_the_losses_show(page, lab):
    notebook = run_lesson(page, lab, EVENTS_LESSON)
    output = _cell_with(notebook, "sc, flavours").locator(".jp-OutputArea")
    output.scroll_into_view_if_needed()
    image = output.locator("img.widget-image")
    image.wait_for()
    readable(image)
    src, summary = image.get_attribute("src"), _summary(output)
    assert _lost_share(summary) > 0.0, summary            # it opens on a crash: its sessions are lost
    clear = output.locator("button.widget-button", has_text=re.compile(r"^\s*Clear\b"))
    clear.click()
    _wait_for_change(page, output, src, summary)
    src, summary = image.get_attribute("src"), _summary(output)
    assert _lost_share(summary) == 0.0, summary           # no failure: the cookie keeps every session
    fail = output.locator("button.widget-button", has_text=re.compile(r"^\s*Fail\b"))
    fail.click()
    _wait_for_change(page, output, src, summary)
    assert _lost_share(_summary(output)) > 0.0, _summary(output)     # a crash takes its sessions
    no_widget_errors(notebook)
    no_errors_saved(page, lab, notebook, EVENTS_LESSON)
    assert not page.js_errors, page.js_errors
    fail.scroll_into_view_if_needed()


def _attribute_until(page, element, name: str, done, seconds: float = 30.0) -> str:
    """Poll ``element``'s ``data-<name>`` until ``done(value)``; the value (bounded in time)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = element.get_attribute(f"data-{name}")
        if value is not None and done(value):
            return value
        page.wait_for_timeout(100)
    last = element.get_attribute(f"data-{name}")
    raise AssertionError(f"data-{name} is still {last!r} after {seconds:.0f} s")


def test_the_flow_view_plays_a_run_its_crash_s_losses_show_and_its_slider_scrubs(page, lab):
    notebook = run_lesson(page, lab, FLOW_LESSON)
    flow = notebook.locator(".stickylab-flow")
    flow.scroll_into_view_if_needed()
    canvas = flow.locator("canvas")
    assert flow.get_attribute("data-time") == "0.00" and flow.get_attribute("data-lost") == "0"
    assert canvas.bounding_box()["x"] + canvas.bounding_box()["width"] <= VIEWPORT["width"]

    # Play at 60x: the clock runs, dots fly, and after the crash at 150 s lost sessions are counted.
    flow.locator(".sl-flow-speed").select_option("60")
    picture = canvas.evaluate("c => c.toDataURL()")
    flow.locator(".sl-flow-play").click()
    _attribute_until(page, flow, "time", lambda t: float(t) > 30.0)
    assert int(flow.get_attribute("data-dots")) > 0 and flow.get_attribute("data-playing") == "true"
    assert canvas.evaluate("c => c.toDataURL()") != picture
    first = float(flow.get_attribute("data-time"))
    page.wait_for_timeout(500)
    assert float(flow.get_attribute("data-time")) > first
    _attribute_until(page, flow, "time", lambda t: float(t) > 170.0)
    assert int(flow.get_attribute("data-lost")) > 0
    flow.locator(".sl-flow-play").click()
    _attribute_until(page, flow, "playing", lambda p: p == "false")

    # Scrub: back before the crash nothing is lost; at 270 s the count is the run's own.
    sc = sl.Scenario(users=1500, instances=4, duration=300.0, seed=1)        # the lesson's crash
    crash = sl.simulate(sc, "CookieInsert", events=[sl.Fail("i0", at=150.0)])
    scrub = flow.locator(".sl-flow-scrub")
    scrub.fill("300")                                      # 30% of the run: t = 90 s
    assert float(_attribute_until(page, flow, "time", lambda t: abs(float(t) - 90.0) < 0.01)) == 90.0
    assert flow.get_attribute("data-lost") == "0" and flow.get_attribute("data-playing") == "false"
    scrub.fill("900")                                      # t = 270 s
    _attribute_until(page, flow, "time", lambda t: abs(float(t) - 270.0) < 0.01)
    assert int(flow.get_attribute("data-lost")) == int(crash.lost[crash.times <= 270.0].sum()) > 0
    assert int(flow.get_attribute("data-requests")) == int((crash.times <= 270.0).sum())
    assert f"lost session {int(crash.lost[crash.times <= 270.0].sum()):,}" in flow.inner_text()
    # The kernel's widget has the time the slider was left at (a cell run below the view says so).
    cell = _cell_with(notebook, "flow = sw.FlowView(")
    cell.locator(".jp-InputArea-prompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.insert_text('print(f"kernel: t={flow.time:g} playing={flow.playing}")')
    page.keyboard.press("Shift+Enter")
    said = notebook.locator(".jp-OutputArea-output", has_text="kernel: t=")
    said.wait_for(timeout=30_000)
    assert said.inner_text().strip() == "kernel: t=270 playing=False", said.inner_text()
    no_widget_errors(notebook)
    assert not page.js_errors, page.js_errors
    flow.scroll_into_view_if_needed()


def _on_circle(svg, fraction: float, radius: float = 150.0) -> tuple[float, float]:
    """Page coordinates of a place on the ring (in the widget's 380-unit square, clockwise from the top)."""
    svg.scroll_into_view_if_needed()
    svg.page.wait_for_timeout(300)          # let the notebook settle: boxes measured now stay true
    box = svg.bounding_box()
    assert in_viewport(svg), f"the ring is not wholly on screen: {box}"
    scale = box["width"] / 380
    a = fraction * 2 * math.pi
    return (box["x"] + box["width"] / 2 + radius * scale * math.sin(a),
            box["y"] + box["height"] / 2 - radius * scale * math.cos(a))


def _ring_says(page, ring, action: str, node: str) -> dict:
    _attribute_until(page, ring, "node", lambda n: n == node and ring.get_attribute("data-action") == action)
    return {k: ring.get_attribute(f"data-{k}") for k in ("moved", "keys", "share", "at", "nodes")}


def test_the_touchable_ring_adds_moves_and_removes_nodes_and_the_keys_that_move_are_python_s(page, lab):
    notebook = run_lesson(page, lab, RING_LESSON)
    ring = notebook.locator(".stickylab-ring")
    ring.scroll_into_view_if_needed()
    svg = ring.locator("svg")
    editor = sw.RingEditor(nodes=4, vnodes=1, keys=60)        # the lesson's ring, computed here
    assert ring.get_attribute("data-nodes") == "4" and ring.get_attribute("data-moved") == ""

    # A click on the circle adds n4 there: the keys the widget says moved are the ring's.
    page.mouse.click(*_on_circle(svg, 0.3))
    said = _ring_says(page, ring, "add", "n4")
    added = editor.add(at=float(said["at"]))
    assert abs(float(said["at"]) - 0.3) < 0.01 and said["nodes"] == "5"
    assert int(said["moved"]) == int(added.moved.sum()) > 0 and float(said["share"]) == added.share
    assert f"{int(added.moved.sum())} of 60 keys moved ({100 * added.share:.1f}%)" in ring.inner_text()
    assert ring.locator("circle.sl-moved").count() == int(added.moved.sum())

    # Drag n0's dot to the far side of the circle.
    dot = ring.locator("circle.sl-ring-point[data-node='n0']").bounding_box()
    page.mouse.move(dot["x"] + dot["width"] / 2, dot["y"] + dot["height"] / 2)
    page.mouse.down()
    target = (editor.points["n0"][0] / 2**64 + 0.5) % 1
    page.mouse.move(*_on_circle(svg, target), steps=8)
    page.mouse.up()
    said = _ring_says(page, ring, "move", "n0")
    moved = editor.move("n0", float(said["at"]))
    assert int(said["moved"]) == int(moved.moved.sum()) and float(said["share"]) == moved.share

    # Remove mode, then a click on n4's dot takes it off.
    ring.locator("button.sl-ring-mode", has_text="Remove").click()
    ring.locator("circle.sl-ring-point[data-node='n4']").click()
    said = _ring_says(page, ring, "remove", "n4")
    removed = editor.remove("n4")
    assert said["nodes"] == "4" and int(said["moved"]) == int(removed.moved.sum())
    assert ring.locator(".sl-ring-error").inner_text() == ""
    ring.locator("button.sl-ring-reset").click()              # Start again: no change to show
    _attribute_until(page, ring, "action", lambda a: a == "")
    assert ring.locator("circle.sl-moved").count() == 0
    no_widget_errors(notebook)
    assert not page.js_errors, page.js_errors


def _kernel_says(page, notebook, below: str, code: str, token: str) -> str:
    """Add a cell under the one showing ``below``, run ``code`` in it; the output line with ``token``."""
    _cell_with(notebook, below).locator(".jp-InputArea-prompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    said = notebook.locator(".jp-OutputArea-output", has_text=token).last
    said.wait_for(timeout=60_000)
    return said.inner_text().strip()


def _states(status) -> dict[str, str]:
    return dict(re.findall(r"\b(i\d+) (up|down|draining)\b", status.inner_text()))


def _until(page, what: str, done, seconds: float = 30.0):
    """Poll ``done()`` until it gives a true value; that value (bounded in time)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = done()
        if value:
            return value
        page.wait_for_timeout(200)
    raise AssertionError(f"{what}: not after {seconds:.0f} s")


def _redraws(page, notebook, image, seconds: float) -> int:
    """How many different pictures ``image`` shows in ``seconds``, while every cell is idle."""
    indicator = notebook.locator(".jp-Notebook-ExecutionIndicator")
    seen, deadline = {image.get_attribute("src")}, time.monotonic() + seconds
    while time.monotonic() < deadline:
        page.wait_for_timeout(200)
        assert indicator.get_attribute("data-status") == "idle", "a cell is running"
        seen.add(image.get_attribute("src"))
    return len(seen) - 1


def test_the_live_dashboard_redraws_by_itself_and_its_buttons_break_a_real_lab(page, lab):
    notebook = run_lesson(page, lab, LIVE_LESSON)
    output = _cell_with(notebook, "live.LiveDashboard(").locator(".jp-OutputArea")
    output.scroll_into_view_if_needed()
    image, status = output.locator("img.widget-image"), output.locator(".sl-live-status")
    image.wait_for()
    readable(image)
    for control in output.locator("button.widget-button, .widget-dropdown").all():
        box = control.bounding_box()
        assert box["x"] + box["width"] <= VIEWPORT["width"], f"{control.inner_text()!r} is off screen"

    # No cell runs, and the chart still moves: the kernel's loop redraws it every second.
    assert _redraws(page, notebook, image, 4.0) >= 2

    # Kill a backend that is up: the status line says it is down, and its users are logged out.
    victim = next(iid for iid, state in _states(status).items() if state == "up")
    backend = output.locator(".widget-dropdown", has_text="backend").locator("select")
    backend.select_option(victim)
    button = {name: output.locator("button.widget-button", has_text=re.compile(rf"^\s*{name}\s*$"))
              for name in ("Kill", "Add")}
    button["Kill"].click()
    _until(page, f"{victim} down in the status line", lambda: _states(status).get(victim) == "down")
    assert _redraws(page, notebook, image, 2.5) >= 1
    said = _kernel_says(page, notebook, "killed under traffic", (
        "t = max(t for t, action, _ in dash.actions if action == 'kill')\n"
        "s, _, lost, _ = dash.traffic.per_second(dash.window, dash.lab.ever)\n"
        "print(f\"kernel: lost={sum(r[3] == 'lost' for r in dash.traffic.since(t))} \"\n"
        "      f\"drawn={int(lost[s >= int(t)].sum())} error={dash.error}\")"), "kernel: lost=")
    lost, drawn = map(int, re.search(r"lost=(\d+) drawn=(\d+) error=None", said).groups())
    assert lost > 0 and drawn > 0, said      # the right-hand panel draws the logouts since the kill

    # Kill it again: the error line says why, and stays while the chart redraws.
    output.scroll_into_view_if_needed()
    button["Kill"].click()
    _until(page, "the error line", lambda: "is not running" in status.inner_text())
    assert _redraws(page, notebook, image, 2.5) >= 1
    assert f"backend {victim} is not running" in status.inner_text()
    page.screenshot(path=str(SHOTS / "live_dashboard_kill.png"))     # the logouts and the error line

    # Add: one more backend, in the drop-down and the status line; the error line is gone.
    before = backend.locator("option").all_inner_texts()
    button["Add"].click()
    new = f"i{len(before)}"
    _until(page, f"{new} in the drop-down", lambda: new in backend.locator("option").all_inner_texts())
    _until(page, f"{new} up", lambda: _states(status).get(new) == "up")
    assert "not running" not in status.inner_text() and backend.input_value() == victim   # still picked

    # Another store: a new lab, with the three backends the dashboard was opened with.
    fresh = {"i0": "up", "i1": "up", "i2": "up"}
    output.locator(".widget-dropdown", has_text="store").locator("select").select_option("sqlite")
    _until(page, "the new lab's backends in the status line", lambda: _states(status) == fresh, 90.0)
    assert backend.locator("option").all_inner_texts() == list(fresh)
    assert _redraws(page, notebook, image, 3.0) >= 2, "the chart stopped after the store changed"

    # dash.close() stops the traffic and every process of the lab.
    said = _kernel_says(page, notebook, "killed under traffic", (
        "import os\npids = list(dash.lab.pids().values())\ndash.close()\n"
        "print(f\"kernel: store={dash.lab.store} pids={len(pids)} \"\n"
        "      f\"alive={[p for p in pids if os.path.exists(f'/proc/{p}')]}\")"), "kernel: store=")
    assert re.fullmatch(r"kernel: store=sqlite pids=3 alive=\[\]", said), said
    assert "closed" in status.inner_text()
    no_widget_errors(notebook)
    assert not page.js_errors, page.js_errors
    output.scroll_into_view_if_needed()


def _fill(page, cell, code: str) -> None:
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)       # as a paste: no auto-indent, no closing brackets added
    page.keyboard.press("Escape")


def _validate(page, notebook) -> str:
    """Press nbgrader's Validate button; the text of the result dialog (left open)."""
    notebook.locator(".jp-Toolbar-item", has_text="Validate").click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=120_000)
    return dialog.inner_text()


def _close_dialog(page) -> None:
    page.locator(".jp-Dialog button", has_text="Ok").click()
    page.locator(".jp-Dialog").wait_for(state="detached", timeout=10_000)


def test_an_exercise_passes_validate_when_right_and_fails_with_the_test_s_message_when_wrong(page, lab):
    path = f"exercises/{EXERCISE}/{EXERCISE}.ipynb"
    notebook = open_notebook(page, lab, path)
    answers = subs.solution_sections(EXERCISE)
    for code in answers.values():        # the stubs, in order, get the solutions' code
        _fill(page, notebook.locator(".jp-CodeCell", has_text="YOUR CODE HERE").first, code)
    assert notebook.locator(".jp-CodeCell", has_text="YOUR CODE HERE").count() == 0
    report = _validate(page, notebook)
    assert "Success! Your notebook passes all the tests." in report, report
    _close_dialog(page)
    cells = nbformat.read(lab.root / path, as_version=4).cells
    saved = {c.metadata.nbgrader.grade_id: c.source for c in cells
             if c.metadata.get("nbgrader", {}).get("solution")}
    assert saved == answers                # Validate saved, and graded, exactly what was typed

    _fill(page, _cell_with(notebook, "class FirstSticky"), WRONG_STICKY)
    report = _validate(page, notebook)
    assert "Success!" not in report, report
    # The test's message with its values filled in (the dialog also shows the test's source).
    assert "three new clients went only to ['i0']: new clients take turns" in report, report
    # The end state: the failure, as the learner sees it.


def test_the_class_generate_release_fetch_submit_collect_autograde_and_the_score(page, lab):
    a = CLASS_ASSIGNMENT
    page.goto(lab.page_url(), timeout=60_000)
    page.locator(".jp-LabShell").wait_for(timeout=60_000)

    # Instructor: the Formgrader lists every assignment; generate and release one.
    menu(page, "Nbgrader", "Formgrader")
    formgrader = page.frame_locator("iframe").first
    formgrader.locator("td.name", has_text=subs.assignments()[-1]).wait_for(timeout=30_000)
    listed = formgrader.locator("td.name").all_inner_texts()
    assert listed == subs.assignments(), listed
    row = formgrader.locator("tr", has_text=a)

    def act(row, cell: str, done: str, seconds: float = 60.0) -> None:
        """Click a Formgrader action of a table row; check its dialog says ``done``, close it."""
        row.locator(f"td.{cell} a").click()
        modal = formgrader.locator(".modal-dialog:visible")
        modal.wait_for(timeout=seconds * 1000)
        assert done in modal.inner_text(), modal.inner_text()[:600]
        modal.locator("button", has_text="OK").click()
        modal.wait_for(state="hidden", timeout=10_000)

    act(row, "assign", f"Successfully created the student version of '{a}'", 120)
    act(row, "release", f"Successfully released '{a}'")
    assert (lab.exchange / "stickylab" / "outbound" / a).is_dir()

    # Learner: on one machine the release folder is the learner's exercises/ folder; a learner
    # of a class starts without the assignment and fetches it.
    shutil.rmtree(lab.root / "exercises" / a)
    menu(page, "Nbgrader", "Assignment List")
    released = page.locator("#released_assignments_list > .list_item", has_text=a)
    released.locator("button", has_text="Fetch").click()
    fetched = page.locator("#fetched_assignments_list > .list_item", has_text=a).first
    fetched.wait_for(timeout=30_000)
    mine = lab.root / "exercises" / a / f"{a}.ipynb"
    work = nbformat.read(mine, as_version=4)
    answers = subs.solution_sections(a)
    for cell in work.cells:              # the learner's work: the solutions' code in the stubs
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    nbformat.write(work, mine)
    fetched.locator("button", has_text="Submit").click()
    submitted = page.locator("#submitted_assignments_list > .list_item", has_text=a).first
    submitted.wait_for(timeout=30_000)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", submitted.inner_text()), submitted.inner_text()
    page.screenshot(path=str(SHOTS / "assignments_tab.png"))

    # Instructor: collect, open the submissions, autograde, read the score.
    page.locator(".lm-TabBar-tab", has_text="Formgrader").click()
    formgrader.locator("a", has_text="Manage Assignments").first.click()
    row.wait_for(timeout=30_000)
    act(row, "collect", f"Successfully collected submissions of '{a}'")
    formgrader.locator("tr", has_text=a).locator("td.num-submissions a", has_text="1").click()
    student = formgrader.locator("tr", has_text="needs autograding")
    student.wait_for(timeout=30_000)
    act(student, "autograde", f"Successfully autograded '{a}'", 180)
    graded = formgrader.locator("tr", has_text="graded")
    graded.wait_for(timeout=30_000)
    points = sum(c.metadata.nbgrader.points for c in subs.source(a).cells
                 if c.metadata.get("nbgrader", {}).get("grade"))
    score = graded.locator("td.score").inner_text().strip()
    assert score == f"{points:g} / {points:g}", score
