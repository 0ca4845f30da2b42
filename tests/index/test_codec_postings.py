"""Posting lists and positions decoded in bulk equal Whoosh's own decoding."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import numpy as np

from index import generations, packed
from index.codec import arrays
from index.codec.postings import decode_positions, read_postings, read_term, term_start
from index.reindex import reindex
from search.engine import Engine
from search.request import SearchRequest


def test_bulk_decoding_equals_whoosh_matchers_over_many_blocks(tmp_path):
    corpus = tmp_path / "many.jsonl"
    words = ["coalition", "talks", "ankara", "brussels", "minister", "report"]
    corpus.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": f"m{i}",
                    "text": " ".join(words[j % len(words)] for j in range(i % 7, i % 7 + 3 + i % 5))
                    + f" item{i % 50} number {i}.",
                    "date": "2020-03-01",
                }
            )
            for i in range(700)
        ),
        encoding="utf-8",
    )
    root = tmp_path / "index"
    assert reindex(root, [corpus]).switched
    reader = Engine(root)._snapshot().reader
    folder = str(generations.generation_path(root, generations.current_generation(root)))
    checked = 0
    for leaf, _ in reader.leaf_readers():
        assert arrays._segment(folder, leaf.segment().segment_id())  # written by the build
        for field in leaf.indexed_field_names():
            positions = leaf.schema[field].format.supports("positions")
            for btext in leaf.lexicon(field):
                ids, weights, values = read_postings(leaf, field, btext, positions)
                matcher = leaf.postings(field, btext)
                expected = []
                while matcher.is_active():
                    value = matcher.value() if positions else None
                    expected.append((matcher.id(), matcher.weight(), value))
                    matcher.next()
                assert ids.tolist() == [e[0] for e in expected]
                assert np.array_equal(weights, np.array([e[1] for e in expected]))
                decoded = None
                if positions:
                    assert values == [e[2] for e in expected]
                    flat, starts = decode_positions(leaf.schema[field].format, values)
                    decoded = [leaf.schema[field].format.decode_positions(v) for v in values]
                    assert [flat[a:b].tolist() for a, b in pairwise(starts)] == decoded
                # From the arrays the segment builder wrote beside the segment:
                start = term_start(leaf.term_info(field, btext))
                segment_id = leaf.segment().segment_id()
                ids, weights, found = (
                    start is not None
                    and arrays.read_term(folder, segment_id, field, start, positions)
                ) or read_term(leaf, field, btext, positions)
                assert ids.tolist() == [e[0] for e in expected]
                assert np.array_equal(weights, np.array([e[1] for e in expected]))
                if positions:
                    flat, starts = found
                    assert [flat[a:b].tolist() for a, b in pairwise(starts)] == decoded
                checked += len(expected) > 128  # spans blocks
    assert checked > 5


def test_searching_maps_no_segment_and_reads_postings_unmapped(tmp_path):
    """Segments and posting lists are read through the page cache (index/pread.py): a
    page read through a map stays in the worker's own resident memory."""
    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        "\n".join(
            json.dumps({"id": f"d{i}", "text": f"coalition talks in ankara, report {i}"})
            for i in range(300)
        ),
        encoding="utf-8",
    )
    root = tmp_path / "index"
    assert reindex(root, [corpus]).switched
    engine = Engine(root)
    assert engine.search(SearchRequest(q='"coalition talks" ankara')).total == 300
    maps = Path("/proc/self/maps").read_text().splitlines()
    mapped = [line.split()[-1] for line in maps if str(root) in line]
    assert mapped and not [path for path in mapped if path.endswith(".seg")]
    folder = str(generations.generation_path(root, generations.current_generation(root)))
    for leaf, _ in engine._snapshot().reader.leaf_readers():
        for field in arrays._segment(folder, leaf.segment().segment_id()).values():
            assert isinstance(field.ids, packed.Unmapped)
            assert isinstance(field.weights, packed.Unmapped)
