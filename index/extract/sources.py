"""Source (publisher or wire agency) and site, from explicit attribution only.

In order of trust:
1. a dateline's attribution: "MOSCOW, October 8 (RIA Novosti) –", "LONDON (Reuters) -";
2. a byline line in the header that is exactly an outlet's name ("RIA Novosti");
3. a sign-off line ending the text ("Reuter", "(AFP)");
4. the outlet's reference to itself: "told RFE/RL", "in an interview with RIA Novosti" (only
   outlets listed in `index/data/sources.toml`, and only when a single one is named).
The site is the web site the page comes from, told by its template (a footer such as
"Join the GlobalSecurity.org mailing list") or a given URL; it is kept apart from the
agency it republishes. A mere mention of an outlet in the body is never a source.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from index.extract.layout import Layout

# Outlet names in a dateline's brackets that are not in our table must look like a name.
_BRACKETED = r"\(([A-Z][\w./&'’-]*(?: [A-Z][\w./&'’-]*){0,3})\)"
DATELINE_ATTRIBUTION = re.compile(
    r"^[A-ZÀ-Þ][A-Za-zÀ-ÿ.'’ -]{1,40}(?:, [A-Za-zÀ-ÿ.'’ ]{2,30}){0,2}"
    r"(?:,? [A-Za-z]{3,9}\.? \d{1,2}(?:, \d{4})?)?"
    rf"[ \t]*{_BRACKETED}[ \t]*[-–—:]"
)
DOMAIN = re.compile(r"\b((?:[A-Za-z0-9-]+\.)+(?:org|com|net|int|gov|edu|info|news|[a-z]{2}))\b")
_NAME = r"[A-Z][\w/&.'’-]*(?: [A-Z][\w/&.'’-]*){0,3}"
# What introduces an outlet's reference to itself: a text with none of these (nine in ten
# Reuters articles) skips the SELF_REFERENCE search.
SELF_REFERENCE_CUES = ("told", "speaking to", "in an interview with", "interviewed by")
_CUE = "|".join(SELF_REFERENCE_CUES)
SELF_REFERENCE = re.compile(
    rf"\b(?:{_CUE})(?: the)? ({_NAME})"
    rf"(?:,? (?:and|or) (?:the )?({_NAME}))?"
)
SIGN_OFF = re.compile(r"^\(?([A-Z][\w/&.'’ -]{1,40}?)\)?\.?$")


@dataclass(frozen=True)
class Outlets:
    by_surface: dict[str, str]  # exact surface form -> outlet name
    by_domain: dict[str, str]  # lower-case domain -> outlet name


# A user's sources file (SIFT_SOURCES_FILE), read after the shipped table: its entries win.
_user_table: Path | None = None


def use_sources_file(path: str | Path | None) -> None:
    """Add the outlets of a TOML file in `index/data/sources.toml`'s format to the shipped
    table (None: the shipped table alone); ValueError naming the file if it is unusable."""
    global _user_table
    _user_table = Path(path) if path else None
    outlets.cache_clear()
    if _user_table is not None:
        try:
            outlets()
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, TypeError, KeyError) as exc:
            _user_table = None
            outlets.cache_clear()
            raise ValueError(f"sources file {path}: {exc}") from None


def _add_table(data: dict, by_surface: dict[str, str], by_domain: dict[str, str], wins: bool):
    for name, entry in data.get("outlets", {}).items():
        for form in [name, *entry.get("variants", [])]:
            if wins:
                by_surface[str(form)] = name
            else:
                by_surface.setdefault(str(form), name)
        for domain in entry.get("domains", []):
            by_domain[str(domain).lower().removeprefix("www.")] = name


@cache
def outlets() -> Outlets:
    data = tomllib.loads(resources.files("index").joinpath("data/sources.toml").read_text("utf-8"))
    by_surface: dict[str, str] = {}
    by_domain: dict[str, str] = {}
    _add_table(data, by_surface, by_domain, wins=False)
    if _user_table is not None:
        _add_table(tomllib.loads(_user_table.read_text("utf-8")), by_surface, by_domain, True)
    return Outlets(by_surface, by_domain)


def outlet(surface: str) -> str | None:
    """The outlet a surface form names exactly ("RFE/RL", "Reuter"), else None."""
    return outlets().by_surface.get(surface)


def _site_of_domain(domain: str) -> str:
    domain = domain.lower().removeprefix("www.")
    table = outlets().by_domain
    while domain:
        if domain in table:
            return table[domain]
        domain = domain.partition(".")[2] if domain.count(".") > 1 else ""
    return ""


def host_of(url: str | None) -> str:
    """The lower-case host of a URL (scheme optional), without `www.`; "" if none."""
    if not url:
        return ""
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return ""
    return host.lower().removeprefix("www.")


def page_outlet(url: str | None, site_name: str | None) -> str | None:
    """The outlet a web page or feed item belongs to: its domain in the sources table, else
    the site name it declares (as the table writes that outlet, when it knows it), else
    its host; so one outlet is one facet value whatever the input."""
    host = host_of(url)
    known = _site_of_domain(host) if host else ""
    if known:
        return known
    name = " ".join((site_name or "").split())
    if name:
        by_fold = {form.casefold(): outlet for form, outlet in outlets().by_surface.items()}
        return outlet(name) or by_fold.get(name.casefold()) or _site_of_domain(name) or name
    return host or None


def find_site(removed_lines: list[str], url: str | None) -> str | None:
    """The publishing site, from a given URL or from template lines that name a domain."""
    host = host_of(url)
    if host:
        return _site_of_domain(host) or host
    for line in removed_lines:
        for m in DOMAIN.finditer(line):
            known = _site_of_domain(m.group(1))
            if known:
                return known
            if "." in m.group(1) and m.group(1)[0].isupper():
                return m.group(1)
    return None


def find_source(layout: Layout) -> str | None:
    """The agency or publisher the text itself credits, else None."""
    for line in [*layout.header, layout.first_paragraph]:
        m = DATELINE_ATTRIBUTION.match(line)
        if m:
            return outlet(m.group(1)) or m.group(1)
    for line in layout.header:
        if outlet(line.strip()):
            return outlet(line.strip())
    if layout.last_line:
        m = SIGN_OFF.match(layout.last_line.strip())
        if m and outlet(m.group(1).strip()):
            return outlet(m.group(1).strip())
    if not any(cue in layout.text for cue in SELF_REFERENCE_CUES):
        return None
    named = {
        _known_prefix(name)
        for m in SELF_REFERENCE.finditer(layout.text)
        for name in m.groups()
        if name
    }
    named.discard(None)
    return named.pop() if len(named) == 1 else None


def _known_prefix(words: str) -> str | None:
    """The outlet named by the longest leading part of `words` ("RFE/RL that" -> RFE/RL)."""
    parts = words.split()
    for n in range(len(parts), 0, -1):
        found = outlet(" ".join(parts[:n]).rstrip(".,;:"))
        if found:
            return found
    return None
