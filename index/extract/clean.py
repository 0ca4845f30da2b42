"""Cleaning: the article body without the web page's furniture around it.

What is removed is a line that, as a whole, matches one of the families of template lines
in `index/data/boilerplate.txt` (navigation, media players, newsletter and donation
banners, copyright footers), plus a line repeating the line just before it (a caption
printed twice). Lines are kept in order; bullets and surrounding blanks are tidied.
Removed lines are returned too: their footers name the site (source detection reads them).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Boilerplate lines are short; a long line is article text whatever it starts with.
MAX_BOILERPLATE_CHARS = 160

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
# Markup removed from HTML: a script or style element, a comment, any other tag. Read by
# `_strip_markup`, which looks for each closing part once: an unclosed `<!--` or `<script>`
# repeated must not make every opening scan the rest of the page (quadratic).
RAW_OPENING = re.compile(r"<(?:script|style)\b", re.I)
RAW_CLOSING = re.compile(r"</(?:script|style)\s*>", re.I)
HTML_TAG = re.compile(r"<[A-Za-z/!][^<>]{0,2000}>")
HTML_BREAK = re.compile(r"<(?:br|/p|/div|/h\d|/li|p|div|h\d|li)\b[^<>]*>", re.I)
HTML_CLOSING = re.compile(r"</[A-Za-z][A-Za-z0-9]*\s*>")
BULLET_CHARS = "•·▪●◦‣∙*"
BULLET = re.compile(rf"^[\s{BULLET_CHARS}]+")
BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True)
class Cleaned:
    text: str  # the body: what is indexed and shown
    removed: list[str]  # template lines taken out, in order


@cache
def _boilerplate() -> re.Pattern:
    text = resources.files("index").joinpath("data/boilerplate.txt").read_text("utf-8")
    patterns = [
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


def is_html(text: str) -> bool:
    """A page or fragment of HTML (it opens with a tag and closes one), as opposed to
    plain text that merely quotes markup, which is kept as written."""
    return text.lstrip().startswith("<") and HTML_CLOSING.search(text) is not None


def normalise(text: str) -> str:
    """Text safe to process: valid Unicode, no control characters; HTML reduced to text."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if is_html(text):
        text = html.unescape(_strip_markup(HTML_BREAK.sub("\n", text)))
    return CONTROL.sub("", text)


def _strip_markup(text: str) -> str:
    """`text` with each script or style element, comment and tag replaced by a space.

    Left to right, the first of these that matches at a `<` wins (as in one regex
    alternation); once a closing part is known to be absent after some point, it is
    never looked for again, so the work is linear in the text.
    """
    out: list[str] = []
    pos = 0
    no_raw_closing = no_comment_closing = len(text) + 1  # absent at or after this index
    while (start := text.find("<", pos)) >= 0:
        end = -1
        opening = RAW_OPENING.match(text, start)
        if opening and opening.end() < no_raw_closing:
            closing = RAW_CLOSING.search(text, opening.end())
            if closing:
                end = closing.end()
            else:
                no_raw_closing = opening.end()
        if end < 0 and text.startswith("<!--", start) and start + 4 < no_comment_closing:
            closing_at = text.find("-->", start + 4)
            if closing_at >= 0:
                end = closing_at + 3
            else:
                no_comment_closing = start + 4
        if end < 0:
            tag = HTML_TAG.match(text, start)
            end = tag.end() if tag else -1
        if end < 0:
            out.append(text[pos : start + 1])
            pos = start + 1
            continue
        out.append(text[pos:start])
        out.append(" ")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _without_bullet(line: str) -> str:
    """`line` without its leading bullet; most lines start with neither a bullet nor a
    space, and for them a check of the first character is cheaper than the regex."""
    first = line[:1]
    return BULLET.sub("", line) if first.isspace() or first in BULLET_CHARS else line


def clean(text: str) -> Cleaned:
    """The body of `text` with template lines removed and blank runs collapsed."""
    boilerplate = _boilerplate()
    kept: list[str] = []
    removed: list[str] = []
    previous = None
    for raw_line in normalise(text).split("\n"):
        line = _without_bullet(raw_line).strip()
        if not line:
            kept.append("")
            continue
        if line == previous or (len(line) <= MAX_BOILERPLATE_CHARS and boilerplate.fullmatch(line)):
            removed.append(line)
            continue
        kept.append(line)
        previous = line
    body = BLANK_LINES.sub("\n\n", "\n".join(kept)).strip()
    return Cleaned(body, removed)
