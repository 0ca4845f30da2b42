"""WARC files in: real pages written as a crawler writes them, with the records to skip."""

from __future__ import annotations

import gc
import gzip
import io
import json
import warnings
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from benchmarks.html_eval import score
from index.documents import PAGE
from index.extract import extract
from index.html import canonical_url, url_id
from index.readers import read_file
from index.reindex import reindex

PAGES = Path(__file__).resolve().parents[3] / "shared" / "data" / "html-articles"
TRUTH = json.loads((PAGES / "ground-truth.json").read_text("utf-8"))
KEYS = sorted(TRUTH)[6:10]


def page(key: str) -> bytes:
    return gzip.decompress((PAGES / "pages" / f"{key}.html.gz").read_bytes())


def response(writer, url: str, body: bytes, date: str, status="200 OK", ctype="text/html"):
    headers = StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")
    record = writer.create_warc_record(
        url,
        "response",
        payload=io.BytesIO(body),
        http_headers=headers,
        warc_headers_dict={"WARC-Date": date},
    )
    writer.write_record(record)


def write_warc(path: Path, gzip_records: bool = True) -> None:
    """Four real pages (the first captured twice, the older copy altered), a revisit,
    an image, a 404 and a redirect."""
    # warcio's writer leaves the digest buffers of its records to the garbage collector.
    with warnings.catch_warnings(), path.open("wb") as out:
        warnings.simplefilter("ignore", ResourceWarning)
        writer = WARCWriter(out, gzip=gzip_records)
        first = TRUTH[KEYS[0]]["url"]
        old = page(KEYS[0]).replace(b"<body", b"<body><p>OLD CAPTURE MARKER</p", 1)
        response(writer, first, old, "2019-11-01T10:00:00Z")
        for key in KEYS:
            response(writer, TRUTH[key]["url"], page(key), "2019-11-21T10:00:00Z")
        revisit = writer.create_revisit_record(
            first, digest="sha1:AAAA", refers_to_uri=first, refers_to_date="2019-11-21T10:00:00Z"
        )
        writer.write_record(revisit)
        response(
            writer,
            "https://example.org/logo.png",
            b"\x89PNG....",
            "2019-11-21T10:00:01Z",
            ctype="image/png",
        )
        response(
            writer,
            "https://example.org/gone",
            b"<html>gone</html>",
            "2019-11-21T10:00:02Z",
            status="404 Not Found",
        )
        response(
            writer,
            "https://example.org/moved",
            b"",
            "2019-11-21T10:00:03Z",
            status="301 Moved Permanently",
        )
        del writer
        gc.collect()


def read(path: Path) -> tuple[list, list[str]]:
    notes: list[str] = []
    return list(read_file(path, notes.append)), notes


def test_each_page_once_latest_capture_with_its_metadata(tmp_path):
    path = tmp_path / "crawl.warc.gz"
    write_warc(path)
    raws, notes = read(path)
    assert len(raws) == len(KEYS)
    by_url = {TRUTH[k]["url"]: k for k in KEYS}
    for raw in raws:
        doc = extract(raw)
        key = next(k for u, k in by_url.items() if raw.origin.endswith(f"record for {u})"))
        page_url = canonical_url(page(key), base=TRUTH[key]["url"]) or TRUTH[key]["url"]
        assert doc.id == url_id(page_url)
        assert raw.fetched == "2019-11-21T10:00:00Z"
        assert "OLD CAPTURE MARKER" not in doc.text
        precision, recall = score(doc.text, TRUTH[key]["articleBody"])
        assert precision > 0.8 and recall > 0.8
        assert doc.provenance["title"] == PAGE
    summary = notes[-1]
    assert f"{len(KEYS)} pages read" in summary
    for counted in (
        "1 revisits",
        "1 non-HTML payloads",
        "2 error or redirect responses",
        "1 older captures",
    ):
        assert counted in summary, summary


def test_ids_are_stable_across_reads_and_compression(tmp_path):
    write_warc(tmp_path / "a.warc.gz")
    write_warc(tmp_path / "b.warc", gzip_records=False)
    first = sorted(r.id for r in read(tmp_path / "a.warc.gz")[0])
    assert first == sorted(r.id for r in read(tmp_path / "a.warc.gz")[0])
    assert first == sorted(r.id for r in read(tmp_path / "b.warc")[0])


def test_a_broken_record_is_reported_and_the_rest_read(tmp_path):
    path = tmp_path / "damaged.warc.gz"
    write_warc(path)
    data = bytearray(path.read_bytes())
    members = [i for i in range(len(data)) if data[i : i + 3] == b"\x1f\x8b\x08"]
    # Garble the middle of the third record (the second page): its gzip member breaks.
    start, end = members[2], members[3]
    data[start + 40 : end - 40] = bytes(len(data[start + 40 : end - 40]))
    path.write_bytes(bytes(data))
    raws, notes = read(path)
    assert len(raws) == len(KEYS) - 1
    assert any("broken record at byte" in n and str(path) in n for n in notes), notes


def test_a_truncated_warc_keeps_what_came_before(tmp_path):
    path = tmp_path / "cut.warc.gz"
    write_warc(path)
    data = path.read_bytes()
    members = [i for i in range(len(data)) if data[i : i + 3] == b"\x1f\x8b\x08"]
    path.write_bytes(data[: members[3] + 500])  # cut inside the third page's record
    raws, notes = read(path)
    assert len(raws) == 2
    assert any("broken record" in n for n in notes)


def test_reindex_serves_warc_pages(tmp_path):
    write_warc(tmp_path / "in" / "crawl.warc.gz") if (tmp_path / "in").mkdir() is None else None
    report = reindex(tmp_path / "index", [tmp_path / "in"])
    assert report.switched and report.documents == len(KEYS)
    assert any("revisits" in n for n in report.notes)


def test_a_broken_record_in_an_uncompressed_warc(tmp_path):
    path = tmp_path / "damaged.warc"
    write_warc(path, gzip_records=False)
    data = path.read_bytes()
    starts = [i for i in range(len(data)) if data.startswith(b"WARC/1.", i)]
    # The third record's header loses its first line: it is no WARC record any more.
    broken = data[: starts[2]] + b"GARBAGE\r\n" + data[data.index(b"\r\n", starts[2]) + 2 :]
    path.write_bytes(broken)
    raws, notes = read(path)
    assert len(raws) == len(KEYS) - 1
    assert any("broken record" in n for n in notes), notes
