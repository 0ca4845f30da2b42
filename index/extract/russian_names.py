"""Russian names back in the nominative: "встретился с Сергеем Лавровым" names Сергей
Лавров, and the actor must be filed under that, not under "Sergeem Lavrovym".

The given name tells the case: an inflected form of a known given name (the lexicon's
Cyrillic ones) gives the case and the gender, and the surname is put back by the endings of
Russian surnames for that case (-ов/-ин, -ский, -ова/-ская, and the rest). Names whose
given name is already nominative, or unknown, are left as written. A fixed number of
string operations per name: linear. (The lexicon imports this module for
given_name_forms, so this one imports the lexicon inside its functions.)
"""

from __future__ import annotations

from functools import cache

from index.translit import has_cyrillic

# (ending of an inflected given name, its nominative ending, case, gender)
_GIVEN = (
    ("ем", "й", "ins", "m"),  # Сергеем
    ("ем", "ь", "ins", "m"),  # Игорем
    ("ею", "я", "ins", "f"),  # Натальею
    ("ей", "я", "ins", "f"),  # Марией, Натальей
    ("ой", "а", "ins", "f"),  # Анной
    ("ом", "", "ins", "m"),  # Михаилом
    ("ии", "ия", "gen", "f"),  # Марии
    ("ию", "ия", "acc", "f"),  # Марию
    ("ы", "а", "gen", "f"),  # Анны, Эльвиры
    ("и", "а", "gen", "f"),  # Ольги
    ("у", "а", "acc", "f"),  # Анну
    ("ю", "я", "acc", "f"),  # Наталью
    ("я", "й", "gen", "m"),  # Сергея
    ("я", "ь", "gen", "m"),  # Игоря
    ("ю", "й", "dat", "m"),  # Сергею
    ("ю", "ь", "dat", "m"),  # Игорю
    ("е", "й", "prep", "m"),  # Сергее
    ("е", "ь", "prep", "m"),  # Игоре
    ("а", "", "gen", "m"),  # Михаила
    ("у", "", "dat", "m"),  # Михаилу
    ("е", "", "prep", "m"),  # Михаиле
    ("е", "а", "dat", "f"),  # Анне
)
# (case, gender) -> (surname ending, nominative ending), longest first.
_SURNAME = {
    # Men's surnames in "-а" decline like nouns: "Дмитрия Кулебы", "Дмитрием Кулебой".
    ("gen", "m"): (
        ("ского", "ский"),
        ("цкого", "цкий"),
        ("ого", "ый"),
        ("а", ""),
        ("я", "ь"),
        ("ы", "а"),
    ),
    ("dat", "m"): (
        ("скому", "ский"),
        ("цкому", "цкий"),
        ("ому", "ый"),
        ("у", ""),
        ("ю", "ь"),
        ("е", "а"),
    ),
    ("ins", "m"): (
        ("ским", "ский"),
        ("цким", "цкий"),
        ("овым", "ов"),
        ("евым", "ев"),
        ("иным", "ин"),
        ("ыным", "ын"),
        ("ым", "ый"),
        ("ой", "а"),
        ("ом", ""),
        ("ем", "ь"),
    ),
    ("prep", "m"): (("ском", "ский"), ("цком", "цкий"), ("ом", "ый"), ("е", "")),
    ("gen", "f"): (("ской", "ская"), ("цкой", "цкая"), ("ой", "а")),
    ("dat", "f"): (("ской", "ская"), ("цкой", "цкая"), ("ой", "а")),
    ("ins", "f"): (("ской", "ская"), ("цкой", "цкая"), ("ой", "а")),
    ("prep", "f"): (("ской", "ская"), ("цкой", "цкая"), ("ой", "а")),
    ("acc", "f"): (("скую", "ская"), ("цкую", "цкая"), ("у", "а")),
}
_SURNAME[("acc", "m")] = _SURNAME[("gen", "m")]


_HUSHING = "гкхжшщч"  # after these, Russian writes "и" where "ы" would follow
_INDECLINABLE = "иоуэею"  # a given name ending so is foreign and keeps its form


def given_name_forms(name: str) -> list[str]:
    """The case forms of a Russian given name, for the lexicon: "Сергей" -> "Сергея",
    "Сергею", "Сергеем", "Сергее"; "Анна" -> "Анны", "Анне", "Анну", "Анной"."""
    stem, last = name[:-1], name[-1:]
    if last == "й" or last == "ь":
        endings = ("я", "ю", "ем", "е")
    elif last == "я":
        endings = ("и", "ю", "ей", "е")
    elif last == "а":
        endings = ("и" if stem[-1:] in _HUSHING else "ы", "е", "у", "ой")
    elif last.isalpha() and last not in "оеиыуюэё":
        stem, endings = name, ("а", "у", "ом", "е")
    else:
        return []
    return [stem + ending for ending in endings]


@cache
def _given_names() -> frozenset[str]:
    """Given names written in Cyrillic, nominative only (Faker's Russian, Ukrainian and
    Bulgarian lists and ours), folded."""
    from index.extract.lexicon import lexicon

    return lexicon().cyrillic_given_names


def _given_case(word: str) -> tuple[str, str, str] | None:
    """(nominative, case, gender) of an inflected given name, or None."""
    from index.extract.lexicon import fold

    known = _given_names()
    for ending, nominative_ending, case, gender in _GIVEN:
        if word.endswith(ending) and len(word) > len(ending) + 1:
            candidate = word[: -len(ending)] + nominative_ending
            if fold(candidate) in known:
                return candidate, case, gender
    return None


def _surname(word: str, case: str, gender: str) -> str:
    for ending, nominative_ending in _SURNAME.get((case, gender), ()):
        if word.endswith(ending) and len(word) > len(ending) + 1:
            return word[: -len(ending)] + nominative_ending
    return word  # indeclinable ("Шойгу") or unknown: as written


def _instrumental(words: list[str]) -> tuple[str, str, str] | None:
    """An unknown given name in the instrumental, told by both words' endings ("с
    Рустамом Миннихановым", "с Мевлютом Чавушоглу" is not: the surname must decline), or
    by the surname's alone after a given name that does not decline ("Энтони")."""
    given, surname = words
    if given.endswith("ом") and surname.endswith(("овым", "евым", "иным", "ыным")):
        return given[:-2], "ins", "m"
    if given[-1:] in _INDECLINABLE and surname.endswith("ом"):
        return given, "ins", "m"  # "с Энтони Блинкеном": a foreign given name does not decline
    return None


def surname_nominatives(word: str) -> list[str]:
    """What a surname written alone may be in the nominative, itself first: "Мишустина"
    -> "Мишустина", "Мишустин", ...; "Кулебы" -> ..., "Кулеба". Its case is not known
    without a given name, so every case's endings are tried (a fixed number)."""
    if not has_cyrillic(word):
        return [word]
    found = [word]
    for endings in _SURNAME.values():
        for ending, nominative_ending in endings:
            if word.endswith(ending) and len(word) > len(ending) + 1:
                candidate = word[: -len(ending)] + nominative_ending
                if candidate not in found:
                    found.append(candidate)
    return found


def nominative(name: str) -> str:
    """ "Сергеем Лавровым" -> "Сергей Лавров", "Марии Захаровой" -> "Мария Захарова";
    anything else (Latin, nominative, not "given name + surname") as it is."""
    from index.extract.lexicon import fold

    words = name.split()
    if len(words) != 2 or not has_cyrillic(name) or fold(words[0]) in _given_names():
        return name
    found = _given_case(words[0]) or _instrumental(words)
    if found is None:
        return name
    given, case, gender = found
    return f"{given} {_surname(words[1], case, gender)}"
