"""The seed articles without their sidecars: what extraction must say, labelled by hand.

These labels were written by reading the seed texts, not by running the extractor; the
extractor is developed on CoNLL train/dev, so this is a sanity check, not a tuning target.
"""

import datetime as dt
from pathlib import Path

import pytest

from index.documents import EXTRACTED, ORGANISATION, PERSON, UNKNOWN, RawDocument
from index.extract import extract

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

LABELS = {
    "000_360175e577de7cee": {
        "source": None,
        "site": None,
        "date": None,
        "people": {
            "Antony Blinken",
            "Luigi Di Maio",
            "Matthias Rüb",
            "Dominic Raab",
            "Heiko Maas",
            "Abu Bakr al-Baghdadi",
            "Abu Hamsa al-Kuraishi",
            "Pope Francis",
            "Matteo Bruni",
            "Joe Biden",
        },
        "organisations": {"Islamic State", "Bundeswehr"},
        "places": {"Rome", "Italy", "Syria", "Iraq", "Mali", "Baghdad"},
    },
    "001_3dbdce3846ecd486": {
        "source": "RFE/RL",
        "site": None,
        "date": None,
        "people": {
            "Jens Stoltenberg",
            "Donald Trump",
            "Rex Tillerson",
            "Ariana Grande",
            "Recep Tayyip Erdogan",
            "Rikard Jozwiak",
        },
        "organisations": {"NATO", "Islamic State"},
        "places": {"Brussels", "Manchester", "Syria", "Iraq", "Poland"},
        "title": "NATO Says Will Join Anti-IS Coalition, Appoint Counterterrorism Coordinator",
    },
    "002_75796edd39bcd684": {
        "source": None,
        "site": None,
        "date": None,
        "people": {"Jens Stoltenberg", "Donald Trump", "Rex Tillerson"},
        "organisations": {"NATO", "Islamic State"},
        "places": {"Brussels", "Manchester", "France", "Germany"},
        "title": "NATO join anti-IS coalition",
    },
    "003_ec049e7e27b04e78": {
        # "Secretary Pompeo" is all the text says of him; "Mike" alone is no actor.
        "source": None,
        "site": None,
        "date": dt.date(2019, 11, 14),
        "people": {"Jens Stoltenberg", "Pompeo", "Al-Baghdadi"},
        "organisations": {"NATO", "Islamic State"},
        "places": {"Washington", "Afghanistan", "Jordan", "Tunisia"},
    },
    "004_7af4038d53513d56": {
        "source": "RIA Novosti",
        "site": "GlobalSecurity.org",
        "date": dt.date(2014, 10, 8),
        "people": {"Mikhail Bogdanov", "Barack Obama"},
        "organisations": {"Islamic State", "US State Department"},
        "places": {"Moscow", "Russia", "Syria", "Iraq"},
        "title": "Russia Does Not Need to Be Invited to Fight Terrorism: Foreign Ministry",
    },
}


@pytest.fixture(scope="module")
def documents():
    return {
        name: extract(RawDocument(id=name, text=(SEEDS / f"{name}.txt").read_text("utf-8")))
        for name in LABELS
    }


@pytest.mark.parametrize("name", sorted(LABELS))
def test_seed_metadata_matches_hand_labels(documents, name):
    doc, label = documents[name], LABELS[name]
    assert doc.language == "en"
    assert doc.source == label["source"]
    assert doc.site == label["site"]
    assert doc.date == label["date"]
    assert {a.name for a in doc.actors if a.type == PERSON} == label["people"]
    assert label["organisations"] <= {a.name for a in doc.actors if a.type == ORGANISATION}
    assert label["places"] <= set(doc.places)
    if "title" in label:
        assert doc.title == label["title"]
    assert doc.provenance["date"] == (EXTRACTED if label["date"] else UNKNOWN)
    assert doc.provenance["source"] == (EXTRACTED if label["source"] else UNKNOWN)


def test_seed_without_headline_gets_the_start_of_its_text_as_title(documents):
    title = documents["000_360175e577de7cee"].title
    assert title.startswith("The American Secretary of State Antony Blinken has called")
    assert title.endswith("…") and len(title) <= 161


@pytest.mark.parametrize(
    "line",
    [
        "Accessibility links",
        "Breaking News",
        "please wait",
        "No media source currently available",
        "0:00 0:01:21 0:00",
        "File Photo",
        "Follow I follow",
        "NEWSLETTER",
        "Join the GlobalSecurity.org mailing list",
        "UNITED24 - Make a charitable donation in support of Ukraine!",
    ],
)
def test_site_boilerplate_is_not_in_the_text(documents, line):
    for doc in documents.values():
        assert line not in doc.text.splitlines()


def test_boilerplate_removal_keeps_the_article(documents):
    text = documents["001_3dbdce3846ecd486"].text
    assert "Diplomats from NATO nations have told RFE/RL" in text
    assert text.count("NATO Secretary-General Jens Stoltenberg\n") == 1  # the doubled caption


def test_no_role_or_template_words_become_actors(documents):
    names = {a.name for doc in documents.values() for a in doc.actors}
    assert not names & {
        "Foreign Minister",
        "Breaking News",
        "Secretary-General",
        "Mike",
        "Maas",
        "Stoltenberg",
        "Trump",
        "Pope",
        "IS",
        "ISIS",
    }
