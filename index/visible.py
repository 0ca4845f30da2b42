"""A page's visible text: everything a browser would show, one block a line.

The floor an article extractor must beat (benchmarks/html_eval.py measures it beside
Sift), and the way a feed item's HTML content becomes text (index/feeds.py).
"""

from __future__ import annotations

import lxml.etree
import lxml.html
from trafilatura.utils import load_html

# Elements that end a line; elements whose text is never shown.
_BLOCKS = frozenset(
    {
        *("p", "div", "br", "li", "tr", "pre", "ul", "ol", "table", "figure", "blockquote"),
        *("h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header", "footer"),
    }
)
_INVISIBLE = frozenset({"script", "style", "noscript", "template", "head", "title"})


def visible_text(page: bytes | str) -> str:
    """The text of a page or fragment, one block a line; bytes are decoded as trafilatura
    decodes pages (declared charset, else detected)."""
    try:
        tree = lxml.html.fromstring(page) if isinstance(page, str) else load_html(page)
    except (ValueError, lxml.etree.ParserError):
        return ""
    if tree is None:
        return ""
    lines: list[str] = []
    current: list[str] = []
    hidden = 0  # depth inside invisible elements
    for event, node in lxml.etree.iterwalk(tree, events=("start", "end")):
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _BLOCKS and current and not hidden:
            lines.append(" ".join(current))
            current.clear()
        if event == "start":
            hidden += tag in _INVISIBLE
            if node.text and tag and not hidden:
                current.append(node.text)
        else:
            hidden -= tag in _INVISIBLE
            if node.tail and not hidden:
                current.append(node.tail)
    if current:
        lines.append(" ".join(current))
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())
