"""Actors: people and organisations under one canonical name, on traps and on real news."""

from pathlib import Path

import pytest

from index.extract.actors import actors_of, find_mentions, places_of

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


def names(text, kind=None):
    return [a.name for a in actors_of(find_mentions(text)) if kind is None or a.type == kind]


def test_a_surname_is_the_full_name_named_earlier():
    text = "NATO Secretary-General Jens Stoltenberg arrived. Stoltenberg said allies agreed."
    mentions = [(m.text, m.canonical) for m in find_mentions(text)]
    assert ("Stoltenberg", "Jens Stoltenberg") in mentions
    assert names(text) == ["NATO", "Jens Stoltenberg"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Foreign Minister Heiko Maas spoke. Later Maas left for Bari.", ["Heiko Maas"]),
        ("Blinken also met Pope Francis at a private audience.", ["Pope Francis"]),
        (
            "the first such gathering to be attended by U.S President Donald Trump.",
            ["Donald Trump"],
        ),
        ("Thank you so much Secretary Pompeo. And many thank, Mike, for hosting us.", ["Pompeo"]),
        ("Vatican spokesman Matteo Bruni said the talks lasted 40 minutes.", ["Matteo Bruni"]),
        ("Deputy Foreign Minister Mikhail Bogdanov said Wednesday.", ["Mikhail Bogdanov"]),
        (
            "the then IS chief Abu Bakr al-Baghdadi proclaimed. Later al Baghdadi died.",
            ["Abu Bakr al-Baghdadi"],
        ),
        ("German Anke Huber beat Todd Martin in three sets.", ["Anke Huber", "Todd Martin"]),
    ],
)
def test_people_behind_roles_and_titles(text, expected):
    assert names(text, "person") == expected


def test_roles_and_page_furniture_are_never_actors():
    text = "Breaking News\n\nThe Foreign Minister said the Secretary-General would attend."
    assert names(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "The group Islamic State (IS) claimed it. IS fighters fled, ISIS said, and ISIL lost.",
        "Daesh lost its last bastion; the Islamic State of Iraq and the Levant was defeated.",
    ],
)
def test_islamic_state_variants_are_one_actor(text):
    assert names(text) == ["Islamic State"]


def test_the_word_is_is_not_the_islamic_state():
    assert names("WHAT IS NEXT FOR THE ALLIANCE\nThis is what it is. Is it over? It is.") == []


def test_organisations_by_suffix_acronym_and_definition():
    text = (
        "Shares of Standard Oil Co rose after the Securities and Exchange Commission ruled. "
        "The Kurdistan Democratic Party (KDP) said the KDP would not attend. Nato agreed."
    )
    assert names(text, "organisation") == [
        "Standard Oil Co",
        "Securities and Exchange Commission",
        "Kurdistan Democratic Party",
        "NATO",
    ]


def test_places_are_not_actors_and_are_canonical():
    mentions = find_mentions(
        "Talks in Brussels, Moscow and the U.S. ended; Washington said little."
    )
    assert places_of(mentions) == ["Brussels", "Moscow", "United States", "Washington"]
    assert actors_of(mentions) == []


def test_title_case_headlines_only_confirm_known_names():
    text = "NATO Chief Says Leaders Will Focus On Terrorism And Funding\nJens Stoltenberg spoke."
    assert names(text) == ["NATO", "Jens Stoltenberg"]


def test_person_scores_on_a_slice_of_conll_dev():
    """A small real check: the first 40 documents of CoNLL-2003 dev (eng.testa)."""
    from benchmarks.extraction import TYPES, Counts, read_conll

    docs = read_conll(SHARED / "conll2003" / "eng.testa.gz")[:40]
    counts = {label: Counts() for label in TYPES}
    for doc in docs:
        mentions = find_mentions(doc.text)
        for label, kind in TYPES.items():
            gold = {doc.surface(s, e).casefold() for s, e, t in doc.gold if t == label}
            counts[label].add(gold, {m.text.casefold() for m in mentions if m.type == kind})
    # Measured 0.93 / 0.77 (PER) and 0.64 precision (ORG; these documents are mostly sports
    # results, where city names stand for clubs); the bounds leave room, not slack.
    person_p, person_r, _ = counts["PER"].prf()
    org_p, _, _ = counts["ORG"].prf()
    assert person_p >= 0.88 and person_r >= 0.70
    assert org_p >= 0.55
