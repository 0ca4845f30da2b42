"""Input readers: `.txt` (+ `.meta.json` sidecar), `.json`, `.jsonl`, `.jsonl.gz` -> RawDocument;
web pages, WARC files and feeds go to index/archives.py.

A file that cannot be read or parsed raises `InputError` naming the file (and line) and the
reason; the caller reports it and decides what a failure means for the run. Readers of
archives also report what they skip inside a file (a revisit record, a broken one) through
`notice`, without failing the file. Every record passes `index.validate` first; JSON Lines
are read as a stream of bounded lines, so a compressed file that inflates to one huge line
costs a line's worth of memory, not the file's.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import cast

from isal import igzip, isal_zlib

from index.documents import RawDocument
from index.validate import (
    DEFAULT_LIMITS,
    InvalidJson,
    InvalidRecord,
    Limits,
    loads,
    validate_record,
)

SIDECAR_SUFFIX = ".meta.json"
TEXT_SUFFIX = ".txt"
JSON_SUFFIXES = (".jsonl.gz", ".jsonl", ".json")
# Web pages, WARC files and RSS/Atom feeds (index/archives.py).
ARCHIVE_SUFFIXES = (".html.gz", ".html", ".htm", ".warc.gz", ".warc", ".rss", ".atom", ".xml")
Notice = Callable[[str], None]

# Fields of the input format; anything else is kept in `extra`, not indexed.
KNOWN_FIELDS = (
    "id",
    "text",
    "body",
    "title",
    "source",
    "date",
    "url",
    "language",
    "actors",
    "fetched",
)
OPTIONAL_STRINGS = ("title", "source", "url", "language")
# A sidecar holds a few fields; a `.json` file is parsed whole, so it is capped too
# (collections larger than this belong in JSON Lines, which are read as a stream).
MAX_SIDECAR_BYTES = 1 << 20
MAX_JSON_FILE_BYTES = 256 << 20
# What isal.igzip raises for a corrupt deflate stream (its stubs call it an instance).
_CORRUPT_DEFLATE = cast(type[Exception], isal_zlib.error)


class InputError(Exception):
    """A file (or one record in it) that cannot be used: where, and why."""

    def __init__(self, where: str, reason: str):
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


def is_input_file(path: Path) -> bool:
    name = path.name
    if name.endswith(SIDECAR_SUFFIX) or name.startswith("."):
        return False
    return name.endswith((TEXT_SUFFIX, *JSON_SUFFIXES, *ARCHIVE_SUFFIXES))


def input_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every input file under `paths` (files or folders, recursively), in a stable order."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and is_input_file(p))
        elif path.is_file():
            found.append(path)
        else:
            raise InputError(str(path), "no such file or folder")
    return found


def read_file(
    path: Path, notice: Notice | None = None, limits: Limits = DEFAULT_LIMITS
) -> Iterator[RawDocument]:
    """The documents in one input file; `notice` hears what was skipped inside it; records
    over `limits` (index/validate.py) are refused."""
    name = path.name
    if name.endswith(TEXT_SUFFIX):
        yield _read_text(path, limits)
    elif name.endswith((".jsonl.gz", ".jsonl")):
        yield from _read_json_lines(path, limits)
    elif name.endswith(".json"):
        yield from _read_json(path, limits)
    elif name.endswith(ARCHIVE_SUFFIXES):
        from index.archives import read_archive  # trafilatura loads only when needed

        for raw in read_archive(path, notice or (lambda message: None)):
            check_document(raw, limits)
            yield raw
    else:
        raise InputError(
            str(path),
            "unsupported file type (expected .txt, .json, .jsonl, .jsonl.gz, .html, .htm, "
            ".html.gz, .warc, .warc.gz, .rss, .atom, .xml)",
        )


def sidecar_for(path: Path) -> Path:
    return path.with_name(path.name[: -len(TEXT_SUFFIX)] + SIDECAR_SUFFIX)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror}") from None


def _read_text(path: Path, limits: Limits) -> RawDocument:
    if _size(path) > limits.max_document_bytes + 3:  # + a byte order mark
        raise InputError(str(path), f"larger than {limits.max_document_bytes} bytes")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror}") from None
    doc_id = path.name[: -len(TEXT_SUFFIX)]
    sidecar = sidecar_for(path)
    given: dict = {}
    if sidecar.exists():
        if _size(sidecar) > MAX_SIDECAR_BYTES:
            raise InputError(str(sidecar), f"sidecar larger than {MAX_SIDECAR_BYTES} bytes")
        try:
            given = loads(sidecar.read_bytes())  # type: ignore[assignment]
        except OSError as exc:
            raise InputError(str(sidecar), f"cannot read sidecar: {exc.strerror}") from None
        except InvalidJson as exc:
            raise InputError(str(sidecar), f"cannot parse sidecar: {exc}") from None
        if not isinstance(given, dict):
            raise InputError(str(sidecar), "sidecar must hold a JSON object")
        for field in ("id", "text", "body"):
            if field in given:
                raise InputError(str(sidecar), f"a sidecar cannot set {field!r}")
    try:
        return raw_document({**given, "id": doc_id, "text": text}, origin=str(path), limits=limits)
    except InvalidRecord as exc:
        where = str(path) if exc.field in ("id", "text") else str(sidecar)
        raise InputError(where, str(exc)) from None
    except ValueError as exc:
        raise InputError(str(sidecar), str(exc)) from None


def _read_json_lines(path: Path, limits: Limits) -> Iterator[RawDocument]:
    """One document per line, each line read with a bounded `readline`: a line longer
    than `limits.max_line_bytes`, or a file inflating beyond `limits.max_inflated_bytes`,
    is reported and the rest of the file left unread."""
    # ISA-L's gunzip (isal.igzip, gzip's interface and errors): a third of gzip's time.
    opener = igzip.open if path.name.endswith(".gz") else open
    longest = limits.max_line_bytes
    read = 0
    try:
        with opener(path, "rb") as stream:
            number = 0
            while line := stream.readline(longest + 1):
                number += 1
                where = f"{path}:{number}"
                read += len(line)
                if len(line) > longest:
                    raise InputError(where, f"line longer than {longest} bytes; rest not read")
                if read > limits.max_inflated_bytes:
                    raise InputError(
                        where, f"more than {limits.max_inflated_bytes} bytes; rest not read"
                    )
                if not line.strip():
                    continue
                try:
                    record = loads(line.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    raise InputError(where, f"not UTF-8 (byte {exc.start})") from None
                except InvalidJson as exc:
                    raise InputError(where, str(exc)) from None
                yield _record(record, where, limits)
    except (OSError, EOFError, zlib.error, _CORRUPT_DEFLATE) as exc:
        raise InputError(str(path), f"cannot read: {exc}") from None


def _read_json(path: Path, limits: Limits) -> Iterator[RawDocument]:
    if _size(path) > MAX_JSON_FILE_BYTES:
        raise InputError(
            str(path), f"larger than {MAX_JSON_FILE_BYTES} bytes (use JSON Lines for more)"
        )
    try:
        data = loads(path.read_bytes())
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror}") from None
    except InvalidJson as exc:
        raise InputError(str(path), str(exc)) from None
    records = data if isinstance(data, list) else [data]
    for index, record in enumerate(records):
        where = f"{path}[{index}]" if isinstance(data, list) else str(path)
        yield _record(record, where, limits)


def _record(record: object, where: str, limits: Limits) -> RawDocument:
    if not isinstance(record, dict):
        raise InputError(where, "expected a JSON object")
    try:
        return raw_document(record, origin=where, limits=limits)
    except ValueError as exc:
        raise InputError(where, str(exc)) from None


def check_document(raw: RawDocument, limits: Limits = DEFAULT_LIMITS) -> None:
    """Validate what a reader built itself (a page, a feed item) as the record it stands
    for; InputError naming where it came from."""
    record = {
        name: getattr(raw, name)
        for name in ("id", "text", "title", "source", "date", "url", "language", "actors")
        if getattr(raw, name) is not None
    }
    try:
        validate_record({**raw.extra, **record, "fetched": raw.fetched}, limits)
    except InvalidRecord as exc:
        raise InputError(raw.origin or raw.id, str(exc)) from None


def raw_document(
    record: Mapping, origin: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> RawDocument:
    """A RawDocument from an input mapping (file record or API body); ValueError (an
    `InvalidRecord` naming the field, for what `index.validate` refuses) if invalid."""
    validate_record(record, limits)
    doc_id = record.get("id")
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if not isinstance(doc_id, str) or not doc_id.strip():
        raise ValueError("'id' is required and must be a non-empty string")
    text = record.get("text", record.get("body"))
    if not isinstance(text, str):
        raise ValueError("'text' (or 'body') is required and must be a string")
    for field in OPTIONAL_STRINGS:
        value = record.get(field)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{field!r} must be a string")
    date = record.get("date") or None
    if date is not None:
        _check_iso_date(date, "date")
    fetched = record.get("fetched") or None
    if fetched is not None:
        _check_iso_date(fetched, "fetched")
    actors = record.get("actors")
    if actors is not None:
        actors = _check_actors(actors)
    extra = {key: value for key, value in record.items() if key not in KNOWN_FIELDS}
    return RawDocument(
        id=doc_id,
        text=text,
        title=(record.get("title") or "").strip() or None,
        source=(record.get("source") or "").strip() or None,
        date=date,
        url=record.get("url") or None,
        language=(record.get("language") or "").strip().lower() or None,
        actors=actors,
        fetched=fetched,
        extra=extra,
        origin=origin,
    )


def parse_iso_date(value: str) -> dt.date:
    """The calendar date of an ISO 8601 date or date-time (`2017-05-24`, `...T15:01:01Z`)."""
    text = value.strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"not an ISO 8601 date: {value!r}") from None


def _check_iso_date(value: object, field: str) -> None:
    if not isinstance(value, str):
        raise ValueError(f"{field!r} must be an ISO 8601 string")
    try:
        parse_iso_date(value)
    except ValueError:
        raise ValueError(f"{field!r} is not an ISO 8601 date: {value[:40]!r}") from None


def _check_actors(actors: object) -> list[str | dict]:
    if not isinstance(actors, list):
        raise ValueError("'actors' must be a list of names or {name, type} objects")
    checked: list[str | dict] = []
    for actor in actors:
        if isinstance(actor, str) and actor.strip():
            checked.append(actor.strip())
        elif isinstance(actor, dict) and isinstance(actor.get("name"), str):
            if actor.get("type") not in (None, "person", "organisation"):
                raise ValueError("an actor's 'type' must be 'person' or 'organisation'")
            checked.append({"name": actor["name"].strip(), "type": actor.get("type")})
        else:
            raise ValueError("'actors' must be a list of names or {name, type} objects")
    return checked
