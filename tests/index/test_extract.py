"""extract(): given metadata wins, provenance is honest, bad input never raises."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from index.documents import (
    EXTRACTED,
    GIVEN,
    PROVENANCE_FIELDS,
    UNDETERMINED,
    UNKNOWN,
    Actor,
    RawDocument,
)
from index.extract import extract

ARTICLE = """Germany's Foreign Minister Heiko Maas met his Italian counterpart in Rome

BERLIN, March 3 (Reuters) - German Foreign Minister Heiko Maas said on Tuesday that the
alliance would not give in, after talks with NATO Secretary-General Jens Stoltenberg.
Maas told reporters the Islamic State (IS) remained a threat in Syria and Iraq, and that
Nato allies would meet again in Brussels in April. Stoltenberg agreed.
"""


def test_given_metadata_wins_and_is_marked_given():
    raw = RawDocument(
        id="a",
        text=ARTICLE,
        title="Given title",
        source="Given Source",
        date="2021-06-28",
        language="de",
        actors=["Nato", {"name": "Jens Stoltenberg", "type": "person"}],
    )
    doc = extract(raw)
    assert (doc.title, doc.source, doc.date, doc.language) == (
        "Given title",
        "Given Source",
        dt.date(2021, 6, 28),
        "de",
    )
    assert doc.actors == [Actor("NATO", "organisation"), Actor("Jens Stoltenberg", "person")]
    assert all(
        doc.provenance[f] == GIVEN for f in ("title", "source", "date", "language", "actors")
    )
    assert doc.provenance["places"] == EXTRACTED


def test_extracted_metadata_from_text_alone():
    doc = extract(RawDocument(id="a", text=ARTICLE, fetched="2020-03-05T10:00:00Z"))
    assert doc.title == "Germany's Foreign Minister Heiko Maas met his Italian counterpart in Rome"
    assert doc.source == "Reuters"
    assert doc.date == dt.date(2020, 3, 3)  # dateline month and day, year of the crawl
    assert doc.language == "en"
    assert [a.name for a in doc.actors] == [
        "Heiko Maas",
        "NATO",
        "Jens Stoltenberg",
        "Islamic State",
    ]
    assert {"Rome", "Germany", "Syria", "Iraq", "Brussels"} <= set(doc.places)
    assert set(doc.provenance) == set(PROVENANCE_FIELDS)
    assert set(doc.provenance.values()) == {EXTRACTED}


def test_a_dateline_without_a_crawl_date_gives_no_date():
    assert extract(RawDocument(id="a", text=ARTICLE)).date is None


def test_dateline_in_december_crawled_in_january_is_last_year():
    text = "Headline of the story\nLONDON, Dec 30 - The bank said it would cut rates next year."
    assert extract(RawDocument(id="a", text=text, fetched="2020-01-02")).date == dt.date(
        2019, 12, 30
    )


def test_a_date_in_the_body_is_never_the_publication_date():
    text = (
        "Islamic State lost its last bastion\n\nThe group lost its last territory in March 2019, "
        "officials said on 14 November 2019 in a statement that was read out to reporters."
    )
    assert extract(RawDocument(id="a", text=text)).date is None


def test_unreadable_given_values_are_not_given():
    doc = extract(RawDocument(id="x", text=ARTICLE, date="not a date", title="  ", actors="NATO"))
    assert doc.provenance["date"] == UNKNOWN and doc.date is None
    assert doc.title.startswith("Germany's Foreign Minister")
    assert doc.provenance["actors"] == EXTRACTED


def test_an_empty_actor_list_given_means_none():
    doc = extract(RawDocument(id="a", text=ARTICLE, actors=[]))
    assert doc.actors == [] and doc.provenance["actors"] == GIVEN
    assert doc.places  # only the actors were given


def test_unknown_fields_stay_in_extra():
    assert extract(RawDocument(id="x", text="Hello", extra={"topic": "x"})).extra == {"topic": "x"}


def test_same_input_same_output():
    raw = RawDocument(id="a", text=ARTICLE, fetched="2020-03-05")
    assert extract(raw) == extract(raw)


def test_empty_and_junk_input_give_honest_unknowns():
    for text in ["", "   \n\t ", "\x00\x01\x02", "<p>&amp;</p>", "abc\ud800def", "1 2 3 4 5"]:
        doc = extract(RawDocument(id="odd", text=text))
        assert doc.title  # never empty: falls back to the text or the id
        assert doc.language == UNDETERMINED
        assert doc.date is None and doc.source is None and doc.actors == []
        assert doc.provenance["language"] == UNKNOWN


def test_html_fragments_are_reduced_to_text():
    doc = extract(
        RawDocument(
            id="h", text="<div><h1>Big news</h1><script>var x;</script><p>Hello &amp; bye</p></div>"
        )
    )
    assert "<" not in doc.text and "var x" not in doc.text
    assert doc.title == "Big news"


def test_a_megabyte_of_junk_is_handled():
    junk = ("Xq Zr Vb! 12:30 <x> & é\n" * 45_000)[:1_000_000]
    doc = extract(RawDocument(id="big", text=junk))
    assert doc.language == UNDETERMINED


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=3000))
def test_extract_never_raises(text):
    doc = extract(RawDocument(id="h", text=text, fetched="2020-01-01"))
    assert doc.title
    assert all(doc.provenance[f] in (GIVEN, EXTRACTED, UNKNOWN) for f in PROVENANCE_FIELDS)
