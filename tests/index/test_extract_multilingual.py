"""Extraction beyond English, on the hand-written labelled set (benchmarks/data/README.md):
dates, people and places in German, French, Spanish and Russian, and one actor across
scripts. The figures asserted are those of the held-out part, which no rule was tuned on."""

from __future__ import annotations

import datetime as dt

import pytest

from benchmarks import multilingual
from index.documents import PERSON, RawDocument
from index.extract import extract
from index.extract.dates import find_date
from index.extract.layout import layout
from index.translit import person_name, to_latin

ARTICLES = {a["id"]: a for a in multilingual.labelled()}


def _extract(article_id: str):
    return extract(multilingual.raw_of(ARTICLES[article_id]))


@pytest.mark.parametrize(
    ("header", "fetched", "expected"),
    [
        ("Berlin, 12. März 2021 – Die Bundesregierung hat sich geeinigt.", None, "2021-03-12"),
        ("Paris, 4 septembre 2022 – La Première ministre a annoncé.", None, "2022-09-04"),
        ("Madrid, 20 de enero de 2023. El Gobierno ha aprobado.", None, "2023-01-20"),
        ("Москва, 15 мая 2020 года. Мэр Москвы объявил.", None, "2020-05-15"),
        ("Lille, 1er décembre 2020 – Le chef de file a tenu.", None, "2020-12-01"),
        ("Brasília, 1º de janeiro de 2023 - Lula tomou posse.", None, "2023-01-01"),
        ("Warszawa, 11 listopada 2021 r. – Prezydent wziął udział.", None, "2021-11-11"),
        ("МОСКВА, 3 марта. /ТАСС/. Пресс-секретарь заявил.", "2022-03-04", "2022-03-03"),
        ("MÜNCHEN, 1. Februar (dpa) – Der Ministerpräsident hat.", "2021-02-02", "2021-02-01"),
    ],
)
def test_datelines_in_other_languages(header, fetched, expected):
    text = f"Überschrift\n\n{header} Der Text geht weiter und weiter mit vielen Wörtern hier."
    assert find_date(layout(text), fetched) == dt.date.fromisoformat(expected)


def test_a_dateline_without_a_year_takes_the_crawl_year_or_none():
    text = "Titre\n\nLYON, 3 janvier (AFP) - D'importantes chutes de neige ont perturbé mardi."
    assert find_date(layout(text)) is None
    assert find_date(layout(text), "2023-01-04") == dt.date(2023, 1, 3)


def test_a_sentence_case_headline_does_not_hide_the_time_stamp_below_it():
    doc = _extract("ml-fr-03")  # "Paris : la vitesse limitée ... ?" then "Mis à jour le 15/06/2022"
    assert doc.date == dt.date(2022, 6, 15)
    assert doc.title.startswith("Paris : la vitesse")


def test_german_nouns_are_not_people_and_roles_find_the_people():
    doc = _extract("ml-de-08")
    people = {a.name for a in doc.actors if a.type == PERSON}
    assert people == {"Ursula von der Leyen", "Angela Merkel"}
    assert set(doc.places) == {"Brussels", "Germany"}  # "Brüssel", "Deutschland"


def test_an_article_and_a_common_noun_is_not_an_actor():
    doc = _extract("ml-es-01")  # "El Gobierno ha aprobado ..."
    assert "El Gobierno" not in {a.name for a in doc.actors}
    assert [a.name for a in doc.actors if a.type == PERSON] == ["Pedro Sánchez"]


def test_a_byline_names_the_author_not_an_actor():
    doc = _extract("ml-fr-05")  # "Par Marie Dubois, le 12 octobre 2020"
    people = {a.name for a in doc.actors if a.type == PERSON}
    assert people == {"Jean Castex", "Olivier Véran"}


def test_russian_places_in_any_case_map_to_one_canonical_place():
    assert _extract("ml-ru-01").places == ["Moscow"]  # "В Москве", "Мэр Москвы", "Москва,"
    assert set(_extract("ml-ru-07").places) == {"Tehran", "Russia", "Iran"}  # "с Ираном"
    assert _extract("ml-de-04").places == ["Munich"]  # "München"


def test_one_actor_across_scripts():
    assert to_latin("Михаил Мишустин") == "Mikhail Mishustin"
    assert to_latin("Эльвира Набиуллина") == "Elvira Nabiullina"
    assert to_latin("Ельцин") == "Yeltsin"
    assert person_name("Михаил Мишустин") == person_name("Mikhail Mishustin")
    assert person_name("Сергей Лавров") == "Sergei Lavrov"  # the alias table's spelling
    assert person_name("Wladimir Putin") == "Wladimir Putin"  # Latin names as written
    cyrillic = _extract("ml-ru-03")
    latin = extract(
        RawDocument(
            id="en",
            text="Russia's Prime Minister Mikhail Mishustin ordered regions to speed up "
            "vaccination on Monday.",
        )
    )
    assert [a.name for a in cyrillic.actors] == ["Mikhail Mishustin"]
    assert "Mikhail Mishustin" in [a.name for a in latin.actors]


def test_held_out_figures_stay_above_their_floors():
    """Floors a little under what the held-out part measured when this was written (dates
    91.7 %, people P 0.90 / R 0.85): a regression fails here; the issue's own targets
    (95 %, 0.9 / 0.85) are reported by `make eval-extraction`, not claimed."""
    scores = multilingual.score([a for a in ARTICLES.values() if a["split"] == "test"])
    for lang in ("de", "fr", "es", "ru"):
        s = scores[(lang, "test")]
        assert s.recall("people") >= 0.8, (lang, s.misses)
    overall = scores[("all", "test")]
    assert overall.date_accuracy() >= 0.9, overall.misses
    assert overall.precision("people") >= 0.85, overall.misses
    assert overall.recall("people") >= 0.8, overall.misses


def test_a_russian_name_in_another_case_is_filed_under_its_nominative():
    text = (
        "Переговоры в Москве\n\nМОСКВА, 3 марта. /ТАСС/. Президент встретился с Сергеем "
        "Лавровым и Марией Захаровой, а также обсудил планы с Игорем Сечиным и Антоном "
        "Силуановым. Позднее журналисты задали вопросы Эльвире Набиуллиной."
    )
    doc = extract(RawDocument(id="ru", text=text, fetched="2022-03-04"))
    assert [a.name for a in doc.actors if a.type == PERSON] == [
        "Sergei Lavrov",  # the alias table's spelling
        "Maria Zakharova",
        "Igor Sechin",
        "Anton Siluanov",
        "Elvira Nabiullina",
    ]
    assert doc.places == ["Moscow"]
