"""Stories at ingest: copies, versions and reports of one event share a story id."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from index import generations, packed, schema, stories
from index.applier import apply_pending, delete_op, put_op
from index.documents import Document
from index.reindex import reindex
from index.writer import index_fields
from tests.conftest import DATA, SEEDS

NATO_RFE = "001_3dbdce3846ecd486"
NATO_OTHER = "002_75796edd39bcd684"
FAZ = "000_360175e577de7cee"  # a different story
NATO_2019 = "003_ec049e7e27b04e78"


def story_map(root: Path) -> dict[str, str]:
    name = generations.current_generation(root)
    return stories.read_stories(generations.generation_path(root, name))


def seed(name: str) -> tuple[str, dict]:
    text = (SEEDS / f"{name}.txt").read_text("utf-8")
    meta = json.loads((SEEDS / f"{name}.meta.json").read_text("utf-8"))
    return text, meta


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path


def variants_of(name: str) -> list[dict]:
    """Republished versions of a seed: trimmed, re-headlined, with boilerplate, re-dated."""
    text, meta = seed(name)
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    half = "\n\n".join(paragraphs[: max(3, len(paragraphs) * 3 // 5)])
    return [
        {"id": "trimmed", "text": half, "title": meta.get("title"), "date": meta.get("date")},
        {
            "id": "reheadlined",
            "text": text,
            "title": "A different headline",
            "date": meta.get("date"),
        },
        {
            "id": "boilerplate",
            "text": "Subscribe to our newsletter\n\n" + text + "\n\nShare this article",
            "source": "Copy Wire",
            "date": meta.get("date"),
        },
        {"id": "redated", "text": text, "date": "2017-06-02"},
    ]


def test_the_seeds_two_reports_of_the_nato_decision_share_a_story(index_root):
    found = story_map(index_root)
    assert found[NATO_RFE] == found[NATO_OTHER]
    others = {found[doc_id] for doc_id in found if doc_id not in (NATO_RFE, NATO_OTHER)}
    assert found[NATO_RFE] not in others
    assert found[FAZ] != found[NATO_2019]


def test_republished_variants_join_the_original_and_others_stay_apart(tmp_path):
    inputs = write_jsonl(tmp_path / "in" / "copies.jsonl", variants_of(FAZ))
    root = tmp_path / "index"
    assert reindex(root, [SEEDS, inputs]).switched
    found = story_map(root)
    for copy in ("trimmed", "reheadlined", "boilerplate", "redated"):
        assert found[copy] == found[FAZ], copy
    assert found[NATO_RFE] != found[FAZ]


def test_the_same_input_gives_the_same_stories(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    assert reindex(first, [DATA, SEEDS]).switched and reindex(second, [DATA, SEEDS]).switched
    assert story_map(first) == story_map(second)
    # the story id is the earliest member's
    assert story_map(first)[NATO_OTHER] == stories.story_id(NATO_RFE)


def test_incremental_reindex_joins_existing_stories_without_recomputing(tmp_path):
    root = tmp_path / "index"
    assert reindex(root, [SEEDS]).switched
    before = story_map(root)
    extra = write_jsonl(tmp_path / "more" / "copies.jsonl", variants_of(NATO_RFE)[:2])
    report = reindex(root, [SEEDS, extra.parent], incremental=True)
    assert report.switched and report.files_unchanged >= 1
    after = story_map(root)
    assert {k: after[k] for k in before} == before
    assert after["trimmed"] == after["reheadlined"] == before[NATO_RFE]


def _batch() -> list[dict]:
    """A copy of a seed, an unrelated report, and an original with its copy."""
    copy = variants_of(FAZ)[1]
    unrelated = {
        "id": "alone",
        "text": "Dutch farmers protest nitrogen rules in The Hague.",
        "date": "2019-10-01",
    }
    text = "Beavers built a dam across the Thames near Oxford, the first in 400 years. " * 4
    first = {"id": "beavers", "text": text, "date": "2019-10-02"}
    again = {**first, "id": "beavers-again"}  # a copy in the same batch joins the first
    return [put_op(record) for record in (copy, unrelated, first, again)]


def test_api_writes_join_a_story_or_start_one(tmp_path):
    root = tmp_path / "index"
    assert reindex(root, [SEEDS]).switched
    generations.journal(root).append(_batch())
    assert apply_pending(root) == 4
    found = story_map(root)
    assert found["reheadlined"] == found[FAZ]
    assert found["alone"] == stories.story_id("alone")
    assert found["beavers"] == found["beavers-again"] == stories.story_id("beavers")


def test_a_batch_whose_entries_fail_together_makes_them_one_by_one(tmp_path, monkeypatch):
    """A batch's story entries are made at once; should that fail, each put makes its
    own (so that a document at fault is the one set aside), to the same stories."""
    found = {}
    for way in ("together", "one by one"):
        root = tmp_path / way.replace(" ", "-")
        assert reindex(root, [SEEDS]).switched
        if way == "one by one":

            def fail(index, docs):
                raise ValueError("not together")

            monkeypatch.setattr(stories.StoryIndex, "entries_for", fail)
        generations.journal(root).append(_batch())
        assert apply_pending(root) == 4
        found[way] = story_map(root)
    assert found["together"] == found["one by one"]
    assert found["one by one"]["beavers-again"] == stories.story_id("beavers")


def test_a_deleted_document_leaves_its_story_and_the_others_keep_it(tmp_path):
    root = tmp_path / "index"
    assert reindex(root, [SEEDS]).switched
    story = story_map(root)[NATO_RFE]
    generations.journal(root).append([delete_op(NATO_RFE)])
    assert apply_pending(root) == 1
    found = story_map(root)
    assert NATO_RFE not in found and found[NATO_OTHER] == story
    # its copies are gone from the candidates: a republished copy of it starts a story
    generations.journal(root).append([put_op(variants_of(NATO_RFE)[1])])
    assert apply_pending(root) == 1
    assert story_map(root)["reheadlined"] == stories.story_id("reheadlined")
    assert story_map(root)[NATO_OTHER] == story


def test_signatures_are_datasketchs_minhash_and_survive_pickling():
    """The vectorised MinHash must stay datasketch's (stored signatures are compared
    with new ones), and entries cross from workers to the reading process pickled."""
    import pickle

    import numpy as np
    from datasketch import MinHash

    shingles = np.unique(np.random.default_rng(7).integers(0, 2**32, 500, dtype=np.uint64))
    expected = MinHash(num_perm=stories.NUM_PERM, seed=1, hashfunc=int, scheme=stories.SCHEME)
    expected.update_batch(shingles.tolist())
    a, b = stories.permutations()  # drawn as datasketch draws them, without importing it
    assert a.dtype == b.dtype == expected.permutations.dtype
    assert np.array_equal(np.array([a, b]), expected.permutations)
    ours = stories.minhashes(shingles.astype(np.uint32), np.array([0]))[0]
    assert ours.dtype == np.uint64
    assert np.array_equal(ours, expected.hashvalues.astype(np.uint64))
    # Several sets laid end to end: each its own signature.
    cuts = [0, 7, 8, 300, len(shingles)]
    several = stories.minhashes(shingles.astype(np.uint32), np.array(cuts[:-1]))
    for row, start, end in zip(several, cuts, cuts[1:], strict=False):
        one = MinHash(num_perm=stories.NUM_PERM, seed=1, hashfunc=int, scheme=stories.SCHEME)
        one.update_batch(shingles[start:end].tolist())
        assert np.array_equal(row, one.hashvalues.astype(np.uint64))
    assert several.flags.c_contiguous
    sig = ours
    entry = stories.Entry("x", 738000, 500, sig, ["a:nato", "p:brussels"])
    back = pickle.loads(pickle.dumps(entry))
    assert (back.id, back.day, back.shingles, back.keys) == ("x", 738000, 500, entry.keys)
    assert np.array_equal(back.sig, sig) and np.array_equal(back.bands, entry.bands)


def _near_one(sig, count, other, other_count) -> float:
    """The rule for one pair, written out plainly: the reference for `_nears`."""
    jaccard = float(np.mean(sig == other))
    if min(count, other_count) < stories.MIN_SHINGLES:
        return 1.0 if jaccard == 1.0 and count == other_count else 0.0
    if jaccard >= stories.NEAR_JACCARD:
        return jaccard
    contained = jaccard * (count + other_count) / (1 + jaccard) / min(count, other_count)
    return jaccard if contained >= stories.CONTAINMENT else 0.0


def test_nearness_against_many_candidates_equals_the_rule_pair_by_pair():
    rng = np.random.default_rng(3)
    sig = rng.integers(0, 50, stories.NUM_PERM, dtype=np.uint64)
    others = np.array([sig.copy() for _ in range(60)])
    for row in range(60):  # from identical copies to strangers, every branch of the rule
        changed = rng.random(stories.NUM_PERM) < row / 60
        others[row, changed] = rng.integers(50, 100, int(changed.sum()), dtype=np.uint64)
    counts = rng.integers(1, 3 * stories.MIN_SHINGLES, 60)
    for count in (1, stories.MIN_SHINGLES, 40, 400):
        got = stories._nears(sig, count, others, counts)
        expected = [_near_one(sig, count, o, int(c)) for o, c in zip(others, counts, strict=True)]
        assert got.tolist() == expected


def test_entries_merged_from_workers_equal_entries_extended_one_by_one():
    """Workers send their entries as columns with their own key numbers
    (`Entries.merge`): the reading process must end with what extending it entry by
    entry gives, key numbers and their order included."""
    import pickle

    entries = synthetic_entries(300)
    whole = stories.Entries()
    whole.extend(entries[:120])
    whole.extend(entries[120:])
    merged = stories.Entries()
    merged.extend(entries[:50])
    for part in (entries[50:200], [], entries[200:]):
        worker = stories.Entries()
        for at in range(0, len(part), 32):
            worker.extend(part[at : at + 32])
        worker.columns()
        merged.merge(pickle.loads(pickle.dumps(worker)))
    assert merged.ids == whole.ids
    assert list(merged.vocabulary.items()) == list(whole.vocabulary.items())
    for got, expected in zip(merged.columns(), whole.columns(), strict=True):
        assert got.dtype == expected.dtype
        assert np.array_equal(got, expected)


def synthetic_entries(count: int) -> list[stories.Entry]:
    """Entries of every kind the rule tells apart: verbatim and near copies (short texts
    too), reports of one event (shared rare keys, some shared wording, days apart),
    strangers, undated ones; entries from `count` random draws."""
    rng = np.random.default_rng(7)
    events = [rng.integers(0, 1 << 32, stories.NUM_PERM, dtype=np.uint64) for _ in range(40)]
    entries = []
    for n in range(count):
        event = int(rng.integers(0, len(events)))
        sig = events[event].copy()
        kind = rng.random()
        if kind < 0.3:  # a near copy, or a report of the event in other words
            changed = rng.random(stories.NUM_PERM) < rng.random()
            sig[changed] = rng.integers(0, 1 << 32, int(changed.sum()), dtype=np.uint64)
        elif kind < 0.35:  # a stranger
            sig = rng.integers(0, 1 << 32, stories.NUM_PERM, dtype=np.uint64)
        shingles = int(rng.choice([2, 5, stories.MIN_SHINGLES, 30, 31]))
        day = None if rng.random() < 0.05 else int(rng.integers(730000, 730012))
        own = rng.choice(12, size=10, replace=False)
        keys = sorted({f"e{event}:{k}" for k in own} | {f"common:{n % 3}", f"x{n}"})
        entries.append(stories.Entry(f"d{n:04d}", day, shingles, sig, keys))
    return entries


def test_a_full_build_orders_entries_by_day_undated_last_then_id():
    """MemoryStories' build order is `build_order`'s whatever order the entries come in
    (ids sorted once, days by a stable sort over them)."""
    entries = synthetic_entries(300)
    shuffled = [entries[i] for i in np.random.default_rng(3).permutation(len(entries))]
    memory = stories.MemoryStories(_columns(shuffled))
    expected = sorted(entries, key=stories.build_order)
    assert memory.ids == [e.id for e in expected]
    assert [memory.ids[p] for p in memory.by_id.tolist()] == sorted(memory.ids)
    assert memory.days.tolist() == [stories.NO_DAY if e.day is None else e.day for e in expected]


def test_a_full_build_assigns_what_adding_one_by_one_assigns(tmp_path, monkeypatch):
    """The in-memory assignment of a full build (holders sorted once, verbatim copies
    found in one band) gives every entry the story the SQLite state gives it when the
    same entries are added one at a time, the rule the API's writes follow."""
    entries = synthetic_entries(600)
    columns = stories.Entries()
    for start in range(0, len(entries), 128):  # handed over in chunks, as workers do
        columns.extend(entries[start : start + 128])
    assert [e.id for e in columns.in_build_order()] == [
        e.id for e in sorted(entries, key=stories.build_order)
    ]

    def assigned() -> dict[str, str]:
        memory = stories.MemoryStories(columns)
        memory.assign()
        return dict(zip(memory.ids, memory.stories(), strict=True))

    reports = []
    event_report = stories._event_report
    monkeypatch.setattr(
        stories, "_event_report", lambda *a: reports.append(event_report(*a)) or reports[-1]
    )
    fast = assigned()
    memory = stories.MemoryStories(columns)
    copies = memory._copies()  # verbatim copies, found for all entries at once
    assert all(c is not stories._UNSURE for c in copies)
    for p, copy in enumerate(copies):  # as one entry at a time finds them
        memory.p = p
        assert copy == memory._copy_of(p)
    assert 100 < sum(c is not None for c in copies) < len(entries)  # many, not every entry
    assert sum(r is not None for r in reports) > 20  # and reports of one event joined

    one_by_one = {}
    with stories.StoryIndex(tmp_path) as index:
        for entry in sorted(entries, key=stories.build_order):
            one_by_one[entry.id] = index.add(entry)
    assert fast == one_by_one
    sizes = Counter(fast.values())
    assert len(sizes) < len(entries) / 2 and max(sizes.values()) > 10  # stories were joined

    # Without the copies found at once: each entry's own search gives the same stories
    # (a signature hash shared by other signatures leaves its entries to it), and so does
    # the general rule, with no shortcut at all.
    real_hashes = stories._signature_hashes

    def weak_hashes(sigs):
        found = real_hashes(sigs)
        found[found % 3 == 0] = 0  # a third of the signatures share one hash
        return found

    monkeypatch.setattr(stories, "_signature_hashes", weak_hashes)
    copies = stories.MemoryStories(columns)._copies()
    unsure = sum(c is stories._UNSURE for c in copies)
    assert 50 < unsure < len(entries) - 100
    assert assigned() == fast
    monkeypatch.setattr(stories.MemoryStories, "_copies", lambda self: [None] * len(self.ids))
    assert assigned() == fast

    built = tmp_path / "built"
    built.mkdir()
    stories.assign_all(built, columns)
    assert stories.read_stories(built) == fast
    # the stories held their own copy: the entries' columns are given up (memory)
    assert len(columns) == len(entries) and len(columns.columns()[2]) == 0
    assert table_rows(built) == table_rows(tmp_path)  # the file incremental writes extend


def test_writes_after_a_full_build_find_its_bands_as_adding_one_by_one_does(tmp_path):
    """A build's bands are arrays beside the file, never rewritten: writes after it
    (incremental ones, the API's) join what the same writes join on a file holding
    every band in its table, also after the build's documents are deleted or rewritten."""
    ordered = sorted(synthetic_entries(600), key=stories.build_order)
    first, rest = ordered[:300], ordered[300:]
    # A build's document rewritten to share no band with its old text, and a later one
    # sharing a band with the old text only: near the new text, but not a candidate.
    old = np.random.default_rng(5).integers(0, 1 << 32, stories.NUM_PERM, dtype=np.uint64)
    new, later = old.copy(), old.copy()
    new[:: stories.ROWS] += np.uint64(1)
    later[stories.ROWS :: stories.ROWS] += np.uint64(2)
    first = sorted(
        [*first, stories.Entry("r-old", 730001, 40, old, ["only:r"])], key=stories.build_order
    )
    half = stories.Entries()
    half.extend(first)
    built, plain = tmp_path / "built", tmp_path / "plain"
    built.mkdir(), plain.mkdir()
    stories.assign_all(built, half)
    with stories.StoryIndex(plain) as index:
        for entry in first:
            index.add(entry)
    assert table_rows(built) == table_rows(plain)

    rewritten = []
    for entry in first[::15]:  # the same ids, other texts: their build bands are stale
        sig = entry.sig.copy()
        sig[:: stories.ROWS] += np.uint64(1)  # still near its old text, sharing no band
        rewritten.append(stories.Entry(entry.id, entry.day, 40, sig, entry.keys))
    rewritten.append(stories.Entry("r-old", 730001, 40, new, ["only:r"]))
    rewritten.append(stories.Entry("r-later", 730002, 40, later, ["only:later"]))
    gone = [entry.id for entry in first[7::15]]
    assigned = {}
    for folder in (built, plain):
        with stories.StoryIndex(folder) as index:
            assigned[folder] = [index.add(entry) for entry in rest]
            index.remove(gone)
            assigned[folder] += [index.add(entry) for entry in rewritten]
            assigned[folder] += [index.add(entry) for entry in ordered[7::15]]  # back again
    assert assigned[built] == assigned[plain]
    assert stories.read_stories(built)["r-later"] == stories.story_id("r-later")
    assert stories.read_stories(built) == stories.read_stories(plain)
    after_build, after_plain = table_rows(built), table_rows(plain)
    for table in ("docs", "keys"):  # the build's bands are kept, stale ones too
        assert after_build[table] == after_plain[table]
    written = rest + rewritten + ordered[7::15]
    started = {stories.story_id(e.id) for e in first}
    joined = [e for e, s in zip(written, assigned[built], strict=True) if s in started]
    assert len(joined) > 100  # many writes joined stories the build started


def test_removing_documents_leaves_none_of_their_rows(tmp_path):
    """Removal deletes each key row by its whole primary key (key, day, id): dated and
    undated documents, of a full build and of writes after it, leave no row behind."""
    entries = sorted(synthetic_entries(200), key=stories.build_order)
    assert any(e.day is None for e in entries) and any(e.day for e in entries)
    built = stories.Entries()
    built.extend(entries[:100])
    stories.assign_all(tmp_path, built)
    with stories.StoryIndex(tmp_path) as index:
        for entry in entries[100:]:
            index.add(entry)
    gone = {e.id for e in entries[::3]}
    with stories.StoryIndex(tmp_path) as index:
        index.remove(sorted(gone))
    with closing(sqlite3.connect(tmp_path / stories.FILE)) as db:
        for table in ("docs", "keys", "bands"):
            held = {i for (i,) in db.execute(f"SELECT id FROM {table}")}
            assert held and not held & gone, table
        kept = sum(len(e.keys) for e in entries if e.id not in gone)
        assert db.execute("SELECT count(*) FROM keys").fetchone()[0] == kept


def table_rows(folder: Path) -> dict[str, list[tuple]]:
    """The file's rows, with the build's bands (arrays beside it) among the bands'."""
    with closing(sqlite3.connect(folder / stories.FILE)) as db:
        rows = {t: sorted(db.execute(f"SELECT * FROM {t}")) for t in ("docs", "bands", "keys")}
    built = stories.BuildBands(folder).arrays
    if built is not None:
        data, ends = built["id_bytes"], built["id_ends"]
        for key, holder in zip(built["keys"].tolist(), built["holders"].tolist(), strict=True):
            rows["bands"].append((key, packed.string_at(data, ends, holder)))
        rows["bands"].sort()
    return rows


def _columns(entries: list) -> stories.Entries:
    """`entries` as a full build hands them to `assign_all` (which takes their columns)."""
    columns = stories.Entries()
    columns.extend(entries)
    return columns


def test_a_batchs_build_holders_are_asked_at_once_and_join_the_same_stories(tmp_path, monkeypatch):
    """A batch of writes asks the build's bands for all its entries in one search: each
    entry gets the build documents sharing any of its bands, and stories are the same as
    when each entry asks alone."""
    ordered = sorted(synthetic_entries(600), key=stories.build_order)
    first, rest = ordered[:300], ordered[300:]
    alone, batch = tmp_path / "alone", tmp_path / "batch"
    for folder in (alone, batch):
        folder.mkdir()
        stories.assign_all(folder, _columns(first))
    bands = stories.BuildBands(batch)
    at_once = bands.holders(np.stack([entry.bands for entry in rest]))
    expected = [
        sorted(f.id for f in first if set(f.bands.tolist()) & set(entry.bands.tolist()))
        for entry in rest
    ]
    assert [sorted(found) for found in at_once] == expected
    assert sum(map(len, at_once)) > 100 and not all(at_once)  # many holders; some none
    with stories.StoryIndex(alone) as index:
        one_by_one = [index.add(entry) for entry in rest]
    with stories.StoryIndex(batch) as index:
        asked = [index.add(entry, found) for entry, found in zip(rest, at_once, strict=True)]
    assert asked == one_by_one
    assert table_rows(alone) == table_rows(batch)
    # an incremental build's entries, 64 at a time
    again = tmp_path / "again"
    again.mkdir()
    stories.assign_all(again, _columns(first))
    monkeypatch.setattr(stories, "_HOLDERS_AT_ONCE", 64)
    with stories.StoryIndex(again) as index:
        assert index.add_all(rest) == one_by_one
    assert table_rows(again) == table_rows(alone)


def test_band_membership_is_numpys_isin():
    rng = np.random.default_rng(3)
    bands = rng.integers(0, 1 << 40, stories.BANDS, dtype=np.uint64)
    keys = rng.integers(0, 1 << 40, (400, stories.BANDS), dtype=np.uint64)
    keys[::7, 3] = bands[3]  # the same band
    keys[::11, 5] = bands[9]  # another band's key
    keys[::13, -1] = bands.max() + np.uint64(1)  # past every band
    expected = np.isin(keys, bands).any(axis=1)
    assert 50 < expected.sum() < 400
    assert np.array_equal(stories._holding(keys, bands), expected)


@settings(max_examples=300)
@given(
    st.text(alphabet=st.characters(codec="ascii"), max_size=80) | st.text(max_size=80),
    st.text(alphabet=st.characters(codec="ascii"), max_size=400) | st.text(max_size=400),
    st.sampled_from(["en", "de", "und", "zh"]),
)
def test_shingled_words_from_the_writers_words_field_are_the_texts_own(title, text, lang):
    """A worker hands `_words` the WORDS field it already made: the same words as
    scanning the folded text again, whatever the text (non-ASCII ones are scanned)."""
    doc = Document(id="x", title=title, text=text, language=lang)
    assert stories._words(doc, index_fields(doc)[schema.WORDS]) == stories._words(doc)


def test_shingled_words_from_the_words_field_in_ascii_text():
    text = "Crude oil prices rose " * 5
    long = Document(id="a", title="Oil Prices Rise", text=text, language="en")
    short = Document(id="b", title="Oil Prices Rise", text="Crude rose", language="en")
    for doc in (long, short):
        words = index_fields(doc)[schema.WORDS]
        assert stories._words(doc, words) == stories._words(doc)
    assert stories._words(long, index_fields(long)[schema.WORDS])[:2] == ["crude", "oil"]
    assert stories._words(short, index_fields(short)[schema.WORDS])[:2] == ["oil", "prices"]
