"""Web pages -> RawDocument: the article's main text and the page's own metadata.

The main text (without navigation, ads, comments, related links, cookie banners) and the
metadata (headline, publication date, site name, authors, canonical URL) come from
trafilatura, which reads JSON-LD, OpenGraph and `<meta>` before it guesses; its date
module htmldate is asked for the page's declared date first and only then for a guess
from the markup. Fields the page declares are marked `page` in provenance, a guessed date
`extracted`; Sift's own extraction then fills what the page left out (index/extract/).
A page is refused (InputError) when it is too large, not HTML, or has no article text.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import zlib
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import trafilatura
from htmldate import find_date

from index.documents import EXTRACTED, PAGE, RawDocument
from index.extract.sources import page_outlet
from index.readers import InputError

HTML_SUFFIXES = (".html.gz", ".html", ".htm")
# trafilatura and htmldate log every page they cannot use; Sift reports those pages itself,
# once, with the file or URL (InputError), so their own lines would only repeat it.
for _library in ("trafilatura", "htmldate"):
    logging.getLogger(_library).setLevel(logging.CRITICAL)
# Largest page read, decompressed: real article pages are well under 5 MB even with
# their inline scripts; a larger one is a dump or an attack, and is refused unread.
MAX_PAGE_BYTES = 10 * 1024 * 1024
# Most markup read: the extractor's time grows with the number of elements (a page of
# 200,000 paragraphs took 19 CPU-seconds), and an article page has a few thousand tags
# (at most 3,194 on the 60 benchmark pages; a long encyclopedia page, some 50,000).
MAX_PAGE_TAGS = 100_000
# Where a page's markup must show itself: a tag in the first 64 KiB, no NUL byte.
_SNIFF_BYTES = 64 * 1024
_TAG = re.compile(rb"<(?:!doctype|html|head|body|meta|title|div|p|article|section)\b", re.I)
# trafilatura's precision mode: it drops borderline blocks (teasers, link lists)
# rather than keeping them; comments are not the article.
TRAFILATURA_OPTIONS = {"favor_precision": True, "include_comments": False}
# The page's declared date only (metadata, URL); a guess from the markup comes after.
DECLARED_DATE = {"original_date": True, "extensive_search": False}
_LINK = re.compile(rb"<link\b[^>]{0,2000}>", re.I)
_META = re.compile(rb"<meta\b[^>]{0,2000}>", re.I)
_ATTR = re.compile(rb"""([a-z:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def url_id(url: str) -> str:
    """A stable document id for a URL: 16 hex digits of its SHA-256."""
    return hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]


def read_html_file(path: Path) -> RawDocument:
    """The article in one `.html`, `.htm` or `.html.gz` file; id = name without extensions."""
    name = path.name
    doc_id = name[: -len(next(s for s in HTML_SUFFIXES if name.endswith(s)))]
    return page_document(read_capped(path), doc_id=doc_id, origin=str(path))


def read_capped(path: Path) -> bytes:
    """The bytes of a (possibly gzipped) file, refused when over MAX_PAGE_BYTES."""
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as stream:
                data = stream.read(MAX_PAGE_BYTES + 1)
        else:
            with path.open("rb") as stream:
                data = stream.read(MAX_PAGE_BYTES + 1)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(str(path), f"truncated or corrupt gzip: {exc}") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_PAGE_BYTES:
        raise InputError(str(path), f"page larger than {MAX_PAGE_BYTES:,} bytes; not read")
    return data


def check_page(data: bytes, where: str) -> None:
    """InputError unless `data` is an HTML page of a readable size."""
    if len(data) > MAX_PAGE_BYTES:
        raise InputError(where, f"page larger than {MAX_PAGE_BYTES:,} bytes; not read")
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head or not _TAG.search(head):
        raise InputError(where, "not an HTML page (no HTML markup at its start)")
    tags = data.count(b"<")
    if tags > MAX_PAGE_TAGS:
        raise InputError(
            where, f"{tags:,} tags, over the {MAX_PAGE_TAGS:,} an article page may have"
        )


def canonical_url(data: bytes, base: str | None = None) -> str | None:
    """The page's canonical URL (`<link rel=canonical>`, else `og:url`), absolute, or None."""
    head = data[: _SNIFF_BYTES * 4]
    found = None
    for m in _LINK.finditer(head):
        attrs = _attrs(m.group(0))
        if "canonical" in attrs.get("rel", "").lower().split() and attrs.get("href"):
            found = attrs["href"]
            break
    if found is None:
        for m in _META.finditer(head):
            attrs = _attrs(m.group(0))
            if attrs.get("property", "").lower() == "og:url" and attrs.get("content"):
                found = attrs["content"]
                break
    if not found:
        return None
    url = urljoin(base, found.strip()) if base else found.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path in ("", "/") and base and urlsplit(base).path not in ("", "/"):
        return None  # a template that names the home page as every page's canonical URL
    return url


def _attrs(tag: bytes) -> dict[str, str]:
    found = {}
    for m in _ATTR.finditer(tag):
        value = next(v for v in m.groups()[1:] if v is not None)
        found[m.group(1).decode("ascii", "replace").lower()] = unescape(
            value.decode("utf-8", "replace")
        )
    return found


def page_document(
    data: bytes,
    *,
    doc_id: str,
    origin: str,
    url: str | None = None,
    fetched: str | None = None,
) -> RawDocument:
    """A RawDocument from one page's bytes: its main text and declared metadata.

    `url` is where the page was fetched from (a WARC record's target, a feed item's
    link): the page's own canonical URL wins over it.
    """
    check_page(data, origin)
    page_url = canonical_url(data, base=url) or url
    result = _extract(data, page_url, origin, TRAFILATURA_OPTIONS)
    if result is None or not (result.text or "").strip():
        # Precision mode can drop every block of an unusual layout: its defaults keep more.
        result = _extract(data, page_url, origin, {"include_comments": False})
    if result is None or not (result.text or "").strip():
        raise InputError(origin, "no article text found in the page")
    provenance: dict[str, str] = {}
    page_url = page_url or _absolute(result.url)
    date = result.date
    if date:
        provenance["date"] = PAGE
    else:
        date = find_date(data, extensive_search=True, original_date=True)
        provenance["date"] = EXTRACTED
    source = page_outlet(page_url or result.hostname, result.sitename)
    for field, value in (("title", result.title), ("source", source)):
        if value:
            provenance[field] = PAGE
    extra = {}
    authors = [a.strip() for a in (result.author or "").split(";") if a.strip()]
    if authors:
        extra["authors"] = authors
    return RawDocument(
        id=doc_id,
        text=without_headline(result.text, result.title),
        title=result.title or None,
        source=source,
        date=date or None,
        url=page_url,
        fetched=fetched,
        extra=extra,
        origin=origin,
        provenance=provenance,
    )


def _extract(data: bytes, url: str | None, origin: str, options: dict):
    try:
        return trafilatura.bare_extraction(
            data, url=url, with_metadata=True, date_extraction_params={**DECLARED_DATE}, **options
        )
    except Exception as exc:  # a page that breaks the library is one bad input, not a crash
        raise InputError(origin, f"cannot extract the page: {type(exc).__name__}") from None


def without_headline(text: str, title: str | None) -> str:
    """The body without a first line that repeats the headline (kept as the title)."""
    first, _, rest = text.lstrip().partition("\n")
    if (
        title
        and rest.strip()
        and " ".join(first.split()).casefold() == " ".join(title.split()).casefold()
    ):
        return rest.lstrip()
    return text


def _absolute(url: str | None) -> str | None:
    return url if url and urlsplit(url).scheme in ("http", "https") else None
