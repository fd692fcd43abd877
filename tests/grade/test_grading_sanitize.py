"""No learner HTML or script runs where the instructor or the student opens a graded notebook.

A correct submission of ``01_stateless_vs_sticky`` carries, in cells the learner added,
every way a notebook puts script into a page: an HTML output with an ``onerror`` image, a
javascript output, an SVG with a script, a markdown output, a PNG whose width metadata
breaks out of nbconvert's unquoted attribute, a widget view, and a markdown cell with a
``<script>``, event handlers, a ``javascript:`` link and an iframe. Each payload, if it ran,
would set ``document.title``, ``window.__pwned`` and ask a loopback HTTP server for
``/beacon/<name>``. Stock ``nbgrader autograde`` and ``generate_feedback`` grade it with the
course's config; then headless Chromium opens, from that server, the feedback HTML and the
graded notebook as nbgrader's Formgrader renders it. No payload may run, and the honest
outputs (printed text, a matplotlib PNG) must still show. The submitted notebook, rendered
the same way, shows that the payloads do run where nothing cleans them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
import submissions as subs
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from stickylab.grade import Course
from stickylab.grade import sandbox as sb
from stickylab.grade.sanitize import SanitizeLearnerHTML, clean_markdown

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

GRADED = [pytest.mark.slow,
          pytest.mark.skipif(sb.check() is not None, reason=f"no sandbox here: {sb.check()}")]
IN_CHROMIUM = [*GRADED, pytest.mark.browser,
               pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium): "
                                                           "the pages are checked in the system's Chromium")]


def marked(marks):
    """Apply a list of pytest marks to a test."""
    def apply(test):
        for mark in marks:
            test = mark(test)
        return test
    return apply

A = subs.ATTACKED
STUDENT = "hostile"
TITLE = "StickyLab sanitize check"
HONEST = "honest printed output 7341"
#: A 1x1 PNG, for the image whose metadata carries the payload.
DOT = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def js(name: str) -> str:
    """What a payload runs: marks the page and asks the loopback server for ``/beacon/<name>``."""
    return f"document.title='pwned';window.__pwned=1;fetch('/beacon/{name}')"


def hostile_cells() -> list:
    """Cells a learner adds: each display gives the output it would produce, as a submission carries it."""
    shows = {
        "html": ({"text/html": f'<b>bold</b><img src="x" onerror="{js("html")}">'}, {}),
        "javascript": ({"application/javascript": js("javascript"), "text/plain": "js"}, {}),
        "svg": ({"image/svg+xml": f'<svg xmlns="http://www.w3.org/2000/svg" onload="{js("svg")}">'
                                  f'<script>{js("svg-script")}</script></svg>'}, {}),
        "markdown": ({"text/markdown": f"[md](javascript:{js('markdown')})\n\n"
                                       f'<img src="x" onerror="{js("markdown-img")}">'}, {}),
        "width": ({"image/png": DOT}, {"image/png": {"width": f"1 onload={js('width')}"}}),
        "widget": ({"application/vnd.jupyter.widget-view+json":
                    {"model_id": "0" * 32, "version_major": 2, "version_minor": 0}, "text/plain": "w"}, {}),
    }
    cells = []
    for data, metadata in shows.values():
        code = f"from IPython.display import display\ndisplay({data!r}, raw=True, metadata={metadata!r})"
        cells.append(new_code_cell(code, outputs=[new_output("display_data", data=data, metadata=metadata)]))
    cells.append(new_code_cell(
        f"print({HONEST!r})\nimport matplotlib.pyplot as plt\n%matplotlib inline\n"
        "plt.figure(figsize=(2, 1.5), dpi=50)\nplt.plot([0, 1, 2], [0, 1, 4])\nplt.show()"))
    cells.append(new_markdown_cell(
        f"<script>{js('md-script')}</script>\n\n"
        f'<img src="x" onerror="{js("md-img")}">\n\n'
        f"[a link](javascript:{js('md-link')})\n\n"
        f'<a href="javascript:{js("md-a")}">another</a>\n\n'
        '<iframe src="/beacon/md-iframe"></iframe>\n\n'
        "Some **prose** of the learner's."))
    return cells


class Beacon:
    """A loopback HTTP server that serves the pages under test and records every path asked for."""

    def __init__(self):
        self.pages: dict[str, bytes] = {}
        self.asked: list[str] = []
        beacon = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                beacon.asked.append(self.path)
                body = beacon.pages.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def beacons(self) -> list[str]:
        return [p for p in self.asked if p.startswith("/beacon/")]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def formgrade_html(notebook: Path, config) -> str:
    """The page nbgrader's Formgrader serves for a graded notebook (its exporter and template)."""
    from nbconvert import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers

    exporter = HTMLExporter(config=config, template_name="formgrade",
                            extra_template_basedirs=[handlers.template_path])
    resources = {"assignment_id": A, "notebook_id": notebook.stem, "submission_id": "1", "index": 0,
                 "total": 1, "base_url": "", "student": STUDENT, "last_name": "", "first_name": "",
                 "notebook_path": f"/autograded/{STUDENT}/{A}/{notebook.name}"}
    return exporter.from_filename(str(notebook), resources=resources)[0]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The course after autograde and feedback, the submitted notebook's path, and the pages."""
    tmp = tmp_path_factory.mktemp("sanitize")
    course = Course(tmp / "course", subs.ROOT, [A], exchange=tmp / "exchange")
    with open(course.root / "nbgrader_config.py", "a") as f:
        f.write(f"c.Exchange.root = {str(tmp / 'exchange')!r}\n")
    course.generate(A)
    nb, _ = subs.submission(A, "solution")
    nb.cells.extend(hostile_cells())
    submitted = course.place(STUDENT, A, {subs.notebook_name(A): nb}) / subs.notebook_name(A)
    for step in ("autograde", "generate_feedback"):
        done = subprocess.run([sys.executable, "-m", "nbgrader", step, A], cwd=course.root,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    autograded = course.root / "autograded" / STUDENT / A / subs.notebook_name(A)
    feedback, = course.feedback_files(A, STUDENT)
    pages = {"/feedback.html": feedback.read_text(),
             "/formgrader.html": formgrade_html(autograded, course.config),
             "/submitted.html": formgrade_html(submitted, course.config)}
    return course, autograded, pages


def visit(pages: dict[str, str], path: str) -> tuple[dict, list[str]]:
    """Open ``pages[path]`` from a loopback server in headless Chromium: what the page shows, and the
    beacons it sent. Requests that leave the loopback server are refused, so no page waits on a CDN."""
    from playwright.sync_api import sync_playwright

    server = Beacon()
    server.pages = {p: html.replace("<title>", f"<title>{TITLE}", 1).encode() for p, html in pages.items()}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=60_000)
            try:
                page = browser.new_page()
                page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url)
                           else route.abort())
                page.goto(server.url + path, wait_until="load", timeout=60_000)
                page.wait_for_timeout(1500)         # an image's onerror, a fetch: they would be done
                seen = page.evaluate("""() => ({
                    title: document.title, pwned: window.__pwned === 1,
                    text: document.body.innerText,
                    javascript_links: [...document.querySelectorAll('a[href]')]
                        .filter(a => a.href.trim().toLowerCase().startsWith('javascript:')).length,
                    frames: document.querySelectorAll('iframe, object, embed').length,
                    pngs: [...document.images].filter(i => i.src.startsWith('data:image/png')
                                                           && i.naturalWidth > 1).length})""")
            finally:
                browser.close()
        time.sleep(0.2)
        return seen, server.beacons()
    finally:
        server.stop()


@pytest.mark.slow
def test_self_grade_and_nbgrader_read_the_same_steps(tmp_path):
    config = Course(tmp_path, subs.ROOT, [A]).config       # what `python -m stickylab.grade` grades with
    name = f"{SanitizeLearnerHTML.__module__}.{SanitizeLearnerHTML.__name__}"
    steps = config.Autograde.autograde_preprocessors
    assert steps.index(name) > steps.index("stickylab.grade.execute.SandboxedExecute")
    assert name in config.GenerateFeedback.preprocessors


def live_markup(html: str) -> list[str]:
    """What in ``html`` a browser would run or load: script-like tags, handlers, javascript: URLs."""
    from html.parser import HTMLParser

    found = []

    class Finder(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag in ("script", "iframe", "object", "embed", "svg", "style", "form"):
                found.append(tag)
            for name, value in attrs:
                scheme = (value or "").strip().lower()
                if name.startswith("on") or scheme.startswith(("javascript:", "data:")):
                    found.append(f"{tag} {name}={value}")
                if tag == "img" and name == "src":
                    found.append(f"img src={value}")

    Finder().feed(html)
    return found


@pytest.mark.parametrize("markdown", [
    "<script>alert(0)</script> <img src=x onerror=alert(1)> <iframe src=/x></iframe>",
    "<textarea>\n\n[x](javascript:alert(2))\n\n</textarea>",       # escaped, markdown would link it
    "![x](attachment:missing.png)\n\n[y](javascript:alert(3))",      # nbconvert's renderer raises
    '<a href="&#106;avascript:alert(4)">z</a> <svg onload=alert(5)>',
])
def test_cleaned_markdown_stays_clean_when_rendered_again(markdown):
    from nbconvert.filters.markdown import markdown2html

    assert live_markup(markdown2html(clean_markdown(markdown))) == []


def test_links_lead_only_to_other_sites_mail_or_the_page():
    html = clean_markdown("[a](evil.html) [b](../../api/terminals) [c](https://example.org) [d](#top) "
                          '<a href="/formgrader/x">e</a> <a href=" javascript:alert(1)">f</a>')
    assert html.count("href") == 2 and 'href="https://example.org"' in html and 'href="#top"' in html


@pytest.mark.parametrize("markdown", ["# Title\n\n> a quote, *emphasis* and a [link](https://example.org)"])
def test_cleaned_markdown_keeps_honest_formatting(markdown):
    html = clean_markdown(markdown)
    assert "<h1>" in html and "<blockquote>" in html and "<em>" in html
    assert '<a href="https://example.org">' in html


@marked(GRADED)
def test_the_submission_is_graded_in_full(graded):
    course, *_ = graded
    score, total = course.score(A, STUDENT)
    assert total > 0 and score == total


@marked(GRADED)
def test_the_graded_notebook_keeps_nothing_a_browser_runs(graded):
    _, autograded, _ = graded
    nb = nbformat.read(autograded, as_version=4)
    keys = {key for cell in nb.cells for out in cell.get("outputs", []) for key in out.get("data", {})}
    assert keys <= {"text/plain", "text/html", "image/png", "image/jpeg"}
    text = json.dumps([cell.get("outputs") or cell.source for cell in nb.cells if cell.cell_type != "raw"])
    for needle in ("onerror=", "onload=", "javascript:", "<script", "<iframe"):
        assert needle not in text
    assert "widgets" not in nb.metadata


@marked(IN_CHROMIUM)
@pytest.mark.parametrize("page", ["/feedback.html", "/formgrader.html"])
def test_no_learner_script_runs_and_honest_output_shows(graded, page):
    seen, beacons = visit(graded[2], page)
    assert beacons == [] and not seen["pwned"] and seen["title"].startswith(TITLE), (seen["title"], beacons)
    assert seen["javascript_links"] == 0 and seen["frames"] == 0
    assert HONEST in seen["text"] and "prose" in seen["text"]
    assert seen["pngs"] >= 1, "the matplotlib plot is not shown"


@marked(IN_CHROMIUM)
def test_unsanitized_the_payloads_run(graded):
    """The same page made from the submitted notebook, which nothing cleaned: the harness sees script."""
    seen, beacons = visit(graded[2], "/submitted.html")
    assert seen["pwned"] and seen["title"] == "pwned"
    assert {"/beacon/html", "/beacon/width", "/beacon/md-script", "/beacon/md-img"} <= set(beacons)
    assert seen["javascript_links"] >= 2 and seen["frames"] >= 1
