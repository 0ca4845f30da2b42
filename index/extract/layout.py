"""Where things sit in an article: header lines, the first paragraph, the last line.

The header is what comes before the first prose line: headline, section name, byline,
dateline, time stamps. Dates and bylines are only trusted there (never in the body), and
the title is chosen from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A prose line has at least this many words, most of them starting in lower case
# (headlines, bylines and time stamps do not; hard-wrapped wire text does).
PROSE_MIN_WORDS = 8
PROSE_MIN_LOWER_SHARE = 0.5
MAX_HEADER_LINES = 12
MAX_HEADER_CHARS = 1000
# A time stamp ("Publié le 2 mai 2023 à 19h47, modifié le ..."): a short line opening with
# one of these words. Header material, never prose, however many lower-case words it has.
STAMP_WORDS = re.compile(
    r"(?i:(?:last[ \t]+)?updated|published|posted|aktualisiert|stand|veröffentlicht|"
    r"mis[ \t]+à[ \t]+jour|publié|modifié|actualizado|publicado|última[ \t]+actualización|"
    r"aggiornato|pubblicato|atualizado|bijgewerkt|gepubliceerd|aktualizacja|opublikowano|"
    r"обновлено|опубликовано)\b"
)
MAX_STAMP_CHARS = 80


@dataclass(frozen=True)
class Layout:
    text: str
    lines: list[str]  # non-empty lines, stripped
    header: list[str]  # lines before the first prose line
    first_paragraph: str  # the first prose line ("" when none)
    last_line: str


def is_stamp(line: str) -> bool:
    """A short "updated"/"published" line."""
    return len(line) <= MAX_STAMP_CHARS and STAMP_WORDS.match(line) is not None


def is_prose(line: str) -> bool:
    words = [w for w in line.split() if w[:1].isalpha()]
    if len(words) < PROSE_MIN_WORDS:
        return False
    lower = sum(w[0].islower() for w in words) >= PROSE_MIN_LOWER_SHARE * len(words)
    return lower and not is_stamp(line)


def _headline_first(text: str) -> bool:
    """Whether the text opens with a headline on a line of its own: a line after which a
    blank line follows and which ends in no full stop. Outside English, headlines are
    written in sentence case ("Retraites : le gouvernement recourt au 49.3") and would
    otherwise read as prose."""
    first, _, rest = text.lstrip().partition("\n")
    first = first.strip()
    return bool(first) and not first.endswith(".") and rest.lstrip(" \t\r").startswith("\n")


def layout(text: str) -> Layout:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    header: list[str] = []
    first_paragraph = ""
    size = 0
    headline = _headline_first(text)
    for n, line in enumerate(lines[: MAX_HEADER_LINES + 1]):
        if is_prose(line) and not (n == 0 and headline):
            first_paragraph = line
            break
        size += len(line)
        if len(header) == MAX_HEADER_LINES or size > MAX_HEADER_CHARS:
            break
        header.append(line)
    return Layout(text, lines, header, first_paragraph, lines[-1] if lines else "")
