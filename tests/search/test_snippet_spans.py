"""`match_spans` analyses each distinct word once; it must mark exactly what the
straightforward per-token version (kept here as the reference) marks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from index.analysis import STEMMED_LANGUAGES, term, words
from search import parser as p
from search.queries import Marks, compile_query
from search.snippets import _alias_re, _merge, match_spans
from tests.conftest import DATA


def reference_spans(text: str, language: str | None, marks: Marks):
    lang = language if language in STEMMED_LANGUAGES else None
    tokens = list(words(text))
    stemmed = [term(match.group(), lang) for match in tokens]
    plain = [term(match.group(), None) for match in tokens]
    spans = []
    terms = marks.terms.get(lang, set())
    for i, match in enumerate(tokens):
        if (
            stemmed[i] in terms
            or plain[i] in marks.words
            or any(plain[i].startswith(prefix) for prefix in marks.prefixes)
        ):
            spans.append((match.start(), match.end(), stemmed[i]))
    for phrases, forms in ((marks.phrases.get(lang, set()), stemmed), (marks.plain_phrases, plain)):
        for phrase in phrases:
            n = len(phrase)
            for i in range(len(tokens) - n + 1):
                if tuple(forms[i : i + n]) == phrase:
                    spans.append((tokens[i].start(), tokens[i + n - 1].end(), " ".join(phrase)))
    for canonical in marks.actors:
        for found in _alias_re(canonical).finditer(text):
            spans.append((found.start(), found.end(), canonical))
    return _merge(spans)


QUERIES = [
    "coalition parties",
    '"new coalition" gas',
    "running Rub",
    "coal* nato~",
    "actor:ISIL stoltenberg",
    'source:"wire service" écoles',
    "Flüchtlinge Berlin",
    '"the the" the',
]
TEXTS = [path.read_text("utf-8") for path in sorted(DATA.glob("*.txt"))] + [
    # a word over MAX_TOKEN_CHARS is no word: "the" and "the" around it are adjacent
    "The " + "x" * 70 + " the new coalition, run by Rüb's parties.",
]


def test_marks_equal_the_reference_on_the_corpus(engine):
    snap = engine._snapshot()
    for q in QUERIES:
        _, marks = compile_query(p.parse(q), snap.reader, snap.tables.languages())
        for text in TEXTS:
            for language in ("en", "de", "fr", "und"):
                assert match_spans(text, language, marks) == reference_spans(text, language, marks)


@settings(max_examples=200)
@given(st.lists(st.sampled_from([*"aeinrstuüé ’'-.\n", "the ", "run ", "Rüb "])).map("".join))
def test_marks_equal_the_reference_on_any_text(text):
    marks = Marks(
        terms={"en": {"run", "the"}, None: {"rub"}},
        phrases={"en": {("the", "the")}},
        plain_phrases={("rub", "run")},
        words={"sie", "rub"},
        prefixes={"ru", "a"},
    )
    for language in ("en", "und"):
        assert match_spans(text, language, marks) == reference_spans(text, language, marks)
