"""An nbgrader preprocessor that leaves nothing of the learner's that a browser would run.

The autograded notebook is rendered to HTML in the Formgrader (in the Jupyter server's
origin, beside the instructor's API and terminals) and in the feedback the student opens.
Stock nbconvert puts a ``text/html`` output, an ``application/javascript`` output, a widget
view or the raw HTML of a markdown cell into that page as it is. ``SanitizeLearnerHTML``
runs after execution in ``c.Autograde.autograde_preprocessors`` (so the graded notebook
itself is clean) and again in ``c.GenerateFeedback.preprocessors``:

- outputs keep plain text, errors, PNG and JPEG images, and HTML cleaned with bleach (the
  sanitizer nbconvert uses): tables, lists, text formatting and links to other sites survive;
  scripts, event handlers, ``javascript:`` and relative links, iframes, forms and style
  sheets do not; markdown outputs become cleaned HTML; everything else (javascript, SVG,
  widget views, LaTeX) goes, and a line of text says what went;
- output metadata keeps only an image's numeric width and height (nbconvert writes those
  into an unquoted attribute); widget state leaves the notebook's metadata;
- markdown cells other than the instructor's locked cells (whose text nbgrader has already
  restored from the source) are rendered by nbconvert's own markdown renderer and the
  HTML is cleaned, so markdown links are checked too, not only raw HTML;
- images in HTML and markdown go (only their alt text stays): nothing the learner wrote
  makes the instructor's browser send a request;
- raw cells of the learner lose the format that would make an exporter emit them.
"""

from __future__ import annotations

import re
from html import escape

import bleach
from bleach.css_sanitizer import CSSSanitizer
from nbconvert.filters.markdown import markdown2html
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_locked

__all__ = ["SanitizeLearnerHTML"]

TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "q", "s",
        "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
        "ul"}


def _link_attribute(tag: str, name: str, value: str) -> bool:
    """Whether an attribute may stay: a link leads to another site, a mail address or the page.

    Never to a relative path: the Formgrader serves the files a learner hands in from the
    Jupyter server's origin.
    """
    return name in ("title", "style") or (
        name == "href" and value.startswith(("http://", "https://", "mailto:", "#")))


ATTRIBUTES = {"*": ["title", "style"], "a": _link_attribute, "img": ["alt", "width", "height"],
              "table": ["border", "class"], "td": ["colspan", "rowspan"], "th": ["colspan", "rowspan"]}
PROTOCOLS = {"http", "https", "mailto"}
CSS = CSSSanitizer(allowed_css_properties={"text-align", "vertical-align", "font-weight", "font-style",
                                           "color", "background-color", "white-space"})
IMAGES = ("image/png", "image/jpeg")
#: Style sheets (pandas puts one before every table) go whole, rather than shown as text.
_STYLE = re.compile(r"<style\b.*?</style\s*>", re.I | re.S)


def clean_html(html: str) -> str:
    """``html`` with only the allowed tags, attributes, link schemes and styles; the rest as text."""
    return bleach.clean(_STYLE.sub("", html), tags=TAGS, attributes=ATTRIBUTES, protocols=PROTOCOLS,
                        css_sanitizer=CSS, strip_comments=True)


def clean_markdown(source: str) -> str:
    """A markdown text as cleaned HTML that renders the same and that markdown cannot re-link.

    It is rendered by nbconvert's own markdown renderer first (one that fails, on an image
    of a missing attachment say, leaves the text as written); brackets then become character
    references, so no ``[text](url)`` forms again when the HTML is read as markdown.
    """
    try:
        html = markdown2html(source)
    except Exception:
        html = f"<pre>{escape(source)}</pre>"
    return clean_html(html).replace("[", "&#91;").replace("]", "&#93;")


class SanitizeLearnerHTML(NbGraderPreprocessor):
    """Drop or clean every learner output and cell that a browser would run as HTML or script."""

    def preprocess(self, nb, resources):
        """Clean every cell of ``nb``, and drop the widget state from its metadata."""
        if nb.metadata.pop("widgets", None) is not None:
            self.log.warning("Removed widget state from the notebook's metadata")
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        """Clean one cell: its outputs, or its markdown or raw source if the learner could write it."""
        if cell.cell_type == "code":
            cell.execution_count = _count(cell.get("execution_count"))
            for output in cell.outputs:
                self._clean_output(output, index)
        elif cell.cell_type == "markdown" and not is_locked(cell):
            cell.source = clean_markdown(cell.source)
            cell.pop("attachments", None)
        elif cell.cell_type == "raw" and not is_locked(cell):
            cell.metadata.pop("raw_mimetype", None)
            cell.metadata.pop("format", None)
        return cell, resources

    def _clean_output(self, output, index: int) -> None:
        if "execution_count" in output:
            output.execution_count = _count(output.execution_count)
        if "data" not in output:        # streams and errors: nbconvert shows them as text
            return
        data = output.data
        if "text/markdown" in data and "text/html" not in data:
            data["text/html"] = clean_markdown(str(data["text/markdown"]))
        if "text/html" in data:
            data["text/html"] = clean_html(_text(data["text/html"]))
        dropped = sorted(k for k in data if k not in ("text/plain", "text/html", *IMAGES))
        for key in dropped:
            del data[key]
        if dropped:
            self.log.warning("Cell %d: removed output %s", index, ", ".join(dropped))
            data.setdefault("text/plain", f"[output removed by the grader: {', '.join(dropped)}]")
        output.metadata = {k: _size(v) for k, v in output.get("metadata", {}).items()
                           if k in IMAGES and k in data and isinstance(v, dict)}


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _count(value):
    return value if type(value) is int else None


def _size(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if k in ("width", "height") and type(v) is int}
