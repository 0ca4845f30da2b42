"""The lenient parser: the query tree for each syntax, caps, and "never raises"."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.errors import QueryTooComplex
from search.parser import (
    MAX_CLAUSES,
    MAX_QUERY_CHARS,
    And,
    Fuzzy,
    MatchAll,
    Not,
    Or,
    Phrase,
    Prefix,
    Word,
    parse,
)


@pytest.mark.parametrize(
    "text, tree",
    [
        ("nato coalition", And((Word("nato"), Word("coalition")))),
        ("nato OR isis", Or((Word("nato"), Word("isis")))),
        ("a b OR c", Or((And((Word("a"), Word("b"))), Word("c")))),
        ("a AND b OR c", Or((And((Word("a"), Word("b"))), Word("c")))),
        ("NOT nato", Not(Word("nato"))),
        ("+a -b", And((Word("a"), Not(Word("b"))))),
        ("-(a b)", Not(And((Word("a"), Word("b"))))),
        ('"islamic state"', Phrase(("islamic", "state"))),
        ('title:"anti-IS coalition"', Phrase(("anti", "IS", "coalition"), "title")),
        ("actor:ISIL", Word("ISIL", "actor")),
        ("source:RFE/RL", Phrase(("RFE", "RL"), "source")),
        ("stoltenb*", Prefix("stoltenb")),
        ("title:nato*", Prefix("nato", "title")),
        ("Stoltenbrg~", Fuzzy("Stoltenbrg", 1)),
        ("Stoltenbrg~2", Fuzzy("Stoltenbrg", 2)),
        ("Stoltenbrg~9", Fuzzy("Stoltenbrg", 2)),
        ("anti-IS", Phrase(("anti", "IS"))),
        ("", MatchAll()),
    ],
)
def test_syntax(text, tree):
    assert parse(text) == tree


def test_op_or_joins_plain_words_with_or():
    assert parse("a b c", "or") == Or((Word("a"), Word("b"), Word("c")))
    assert parse("a b AND c", "or") == Or((Word("a"), And((Word("b"), Word("c")))))


@pytest.mark.parametrize(
    "text, tree",
    [
        # a question mark or a lone star is punctuation, never a wildcard
        ("who leads nato?", And((Word("who"), Word("leads"), Word("nato")))),
        ("*a*", Word("a")),
        ("a*", Word("a")),  # too short to be a prefix
        ("body:[a TO z]", And((Phrase(("body", "a")), Word("TO"), Word("z")))),
        ("foo:bar", Phrase(("foo", "bar"))),  # unknown field: its words
        ('"unterminated phrase', Phrase(("unterminated", "phrase"))),
        ("(a OR (b AND (c", Or((Word("a"), And((Word("b"), Word("c")))))),
        (")))a(((", Word("a")),
        ("AND OR NOT", MatchAll()),
        ("- + -", MatchAll()),
        ("title:", Word("title")),
        ("x~2", Word("x")),  # too short to be fuzzy
    ],
)
def test_malformed_syntax_degrades_to_words(text, tree):
    assert parse(text) == tree


def test_deep_nesting_and_long_operator_chains_do_not_recurse():
    assert parse("(" * 450 + "a" + ")" * 450) == Word("a")
    assert parse("NOT " * 240 + "a") == Word("a")
    assert parse("-" * 900 + "a") == Not(Word("a"))


def test_repeated_words_merge_into_a_weight():
    assert parse("nato nato NATO summit", "or") == Or((Word("nato", weight=3), Word("summit")))
    assert parse("gas gas", "and") == Word("gas", weight=2)
    assert parse("title:gas gas") == And((Word("gas", "title"), Word("gas")))


def test_or_groups_drop_stop_words_when_other_words_remain():
    stop = frozenset({"the", "of", "who"})
    assert parse("the price of gas", "or", stop) == Or((Word("price"), Word("gas")))
    assert parse("the who", "or", stop) == Or((Word("the"), Word("who")))  # nothing else
    assert parse("the price", "and", stop) == And((Word("the"), Word("price")))  # AND keeps
    assert parse('"the who" price', "or", stop) == Or((Phrase(("the", "who")), Word("price")))


def test_compounds_are_words_with_op_or_and_phrases_with_op_and():
    assert parse("AMP-activated kinase", "or") == Or(
        (Word("AMP"), Word("activated"), Word("kinase"))
    )
    assert parse("AMP-activated kinase") == And((Phrase(("AMP", "activated")), Word("kinase")))
    assert parse('"AMP-activated"', "or") == Phrase(("AMP", "activated"))


def test_caps_count_distinct_words_after_stop_words():
    stop = frozenset({"the", "a"})
    words = " ".join(f"w{i % 40}" for i in range(120))
    filler = " the a" * 30
    assert len(words + filler) <= MAX_QUERY_CHARS
    assert len(parse(words + filler, "or", stop).children) == 40
    with pytest.raises(QueryTooComplex, match="terms"):
        parse(" ".join(f"w{i}" for i in range(MAX_CLAUSES + 1)), "or", stop)


def test_caps_raise_with_a_clear_message():
    with pytest.raises(QueryTooComplex, match="longer than"):
        parse("a" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(QueryTooComplex, match="terms"):
        parse(" ".join(f"w{i}" for i in range(MAX_CLAUSES + 1)))


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_or_hits_a_cap(text):
    try:
        parse(text)
        parse(text, "or")
    except QueryTooComplex:
        pass


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "(",
                ")",
                '"',
                "NOT",
                "OR",
                "AND",
                "-",
                "+",
                "*",
                "~",
                "a",
                "b:",
                "title:",
                "x*",
                "y~2",
                " ",
            ]
        ),
        max_size=80,
    )
)
def test_operator_soup_parses(parts):
    parse(" ".join(parts))
    parse("".join(parts))
