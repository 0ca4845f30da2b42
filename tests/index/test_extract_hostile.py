"""Extraction on hostile text: linear steps, the same answers as before, a budget.

The figures (time per KB at 10, 50 and 200 KB for each family) come from
`python -m benchmarks.hostile`; here the rewritten steps are checked against the
backtracking originals they replace, and each family is extracted in full within the budget.
"""

from __future__ import annotations

import random
import re

import pytest

from benchmarks.hostile import FAMILIES
from index.documents import EXTRACTION, TRUNCATED, RawDocument
from index.extract import actors, dates, extract, sources, title
from index.extract.clean import _strip_markup, clean

# The patterns as they were before they were made linear (same language, backtracking).
ORIGINAL_MARKUP = re.compile(
    r"<(?:script|style)\b.*?</(?:script|style)\s*>|<!--.*?-->|<[A-Za-z/!][^<>]{0,2000}>",
    re.S | re.I,
)
ORIGINAL_TIME_ONLY = re.compile(
    r"^[\W\d_]*(?:updated|published|posted|last updated)?[\W\d_]*(?:[ap]\.?m\.?)?[\W\d_]*$", re.I
)
ORIGINAL_DATELINE = re.compile(dates.DATELINE.pattern.replace("*+", "*"))
ORIGINAL_DOMAIN = re.compile(
    r"\b((?:[A-Za-z0-9-]+\.)+(?:org|com|net|int|gov|edu|info|news|[a-z]{2}))\b"
)


def _texts(parts: list[str], count: int, seed: int, longest: int = 14):
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(parts) for _ in range(rng.randint(0, longest)))


def test_markup_stripping_matches_the_regex_it_replaces():
    parts = ["<!--", "-->", "<script>", "</script>", "<style a=1>", "</STYLE >", "<p>", "</p>"]
    parts += ["<", ">", "a", " ", "<!", "<!-->", "<br/>", "-", "\n", "<scriptx>", "</scripts>"]
    for text in _texts(parts, 5000, 1, longest=30):
        assert _strip_markup(text) == ORIGINAL_MARKUP.sub(" ", text), text


def test_possessive_patterns_match_what_the_backtracking_ones_matched():
    parts = ["updated", "Updated ", "a.m.", "pm", " ", "-", "1", ":", ".", "x", "_", "a", "p."]
    for text in _texts(parts, 5000, 2):
        assert bool(title.TIME_ONLY.match(text)) == bool(ORIGINAL_TIME_ONLY.match(text)), text
    parts = ["A", "B-", "-", "Foo", " ", "de", " la", ",", ", ", "March", " 4", "x", "St."]
    parts += ["'", ", 2017", "\t", "Nev.", "Oct", "-de", " 12"]
    for text in _texts(parts, 5000, 3):
        ours, theirs = dates.DATELINE.match(text), ORIGINAL_DATELINE.match(text)
        assert (ours and ours.groups()) == (theirs and theirs.groups()), text


def test_domains_are_found_as_before_in_names_of_up_to_eight_labels():
    parts = ["www", ".", "com", "a1", "-", " ", "org", "x", "Global", "Security", "uk", "é"]
    for text in _texts(parts, 5000, 5, longest=8):
        ours = [m.group(1) for m in sources.DOMAIN.finditer(text)]
        assert ours == [m.group(1) for m in ORIGINAL_DOMAIN.finditer(text)], text


def test_lower_case_lookups_agree_after_switching_to_the_word_list():
    rng = random.Random(4)
    words = ["zorb", "xzorbx", "Zorb", "ab", "abc", "b-ab", "ab's", "Ab", "élan", "zorb-x"]
    text = " ".join(rng.choice(words) + rng.choice([".", "", ",", "\n"]) for _ in range(400))
    asked = [f"w{n}" for n in range(actors.LOWER_CASE_SCANS)] + ["zorb", "ab", "abc", "élan"]
    index = actors._LowerCaseWords(text)
    answers = [index.has(word) for word in asked]
    assert index.words is not None  # past the scans: the list of words answers
    assert answers == [actors._LowerCaseWords(text)._scan(word) for word in asked]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_hostile_family_is_extracted_in_full_within_the_budget(family):
    text = FAMILIES[family](200 * 1024)
    doc = extract(RawDocument(id=family, text=text))
    assert EXTRACTION not in doc.provenance
    assert doc.text == clean(text).text


def test_a_spent_budget_keeps_the_text_and_says_extraction_was_truncated(monkeypatch):
    text = "Jens Stoltenberg met Angela Merkel in Berlin on Tuesday, NATO said.\n" * 50
    full = extract(RawDocument(id="full", text=text))
    assert EXTRACTION not in full.provenance and full.actors
    monkeypatch.setattr(actors, "BUDGET_S", 0.0)
    cut = extract(RawDocument(id="cut", text=text))
    assert cut.provenance[EXTRACTION] == TRUNCATED
    assert cut.text == full.text and cut.title == full.title and cut.actors == []
    assert cut.provenance["actors"] == "unknown"


def test_a_deadline_stops_name_finding_part_way():
    deadline = actors.Deadline(0.0)
    assert actors.find_mentions("Angela Merkel met Jens Stoltenberg.", deadline) == []
    assert deadline.passed
