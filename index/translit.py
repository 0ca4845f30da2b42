"""Cyrillic names in Latin letters (BGN/PCGN romanisation of Russian), so that "Михаил
Мишустин" and "Mikhail Mishustin" are one actor and one searchable name.

BGN/PCGN is the scheme of English-language news and gazetteers ("Khrushchev", "Sergey
Lavrov"); its optional disambiguation dots are left out and "ё" is written "ë" as the
scheme says (folding makes it "e" for matching). Ukrainian text is romanised by
Ukraine's own national scheme (KMU 2010, the one its passports and English-language
press use): "Володимир Зеленський" is "Volodymyr Zelenskyi", where BGN's Russian table
would give "Volodimir Zelenskiy". One pass over the characters: linear.
"""

from __future__ import annotations

import re

from index import aliases

_LETTERS = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "ë",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
    # Ukrainian and Belarusian letters that Russian-language news spells names with.
    "і": "i",
    "ї": "yi",
    "є": "ye",
    "ґ": "g",
    "ў": "w",
}
# KMU 2010 (Ukrainian): where it differs from the table above. Letters it lacks (Russian
# "ы", "э", "ё", "ъ") fall back to the table above.
_UKRAINIAN = {"г": "h", "ґ": "g", "е": "e", "и": "y", "і": "i", "х": "kh", "щ": "shch"}
# At the start of a word these are written "ye", "yi", "y", "yu", "ya"; elsewhere as here.
_UKRAINIAN_INSIDE = {"є": "ie", "ї": "i", "й": "i", "ю": "iu", "я": "ia"}
_UKRAINIAN_INITIAL = {"є": "ye", "ї": "yi", "й": "y", "ю": "yu", "я": "ya"}
_APOSTROPHES = "'’ʼ"

# "е" and "ё" are "ye" and "yë" at the start of a word and after a vowel, "ъ", "ь" or "й".
_IOTATING = frozenset("аеёиоуыэюяйъьіїє")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def has_cyrillic(text: str) -> bool:
    """Whether `text` has a Cyrillic letter (the only script transliterated here)."""
    return CYRILLIC.search(text) is not None


def person_name(name: str, language: str | None = None) -> str:
    """The one name a person goes by in every script: the alias table's canonical name for
    `name` or its romanisation, else the romanisation ("Михаил Мишустин" -> "Mikhail
    Mishustin"; in a Ukrainian text, "Дмитро Кулеба" -> "Dmytro Kuleba"); names without
    Cyrillic letters as they are."""
    if not has_cyrillic(name):
        return name
    latin = to_latin_uk(name) if language == "uk" else to_latin(name)
    return aliases.canonical(name) or aliases.canonical(latin) or latin


def to_latin_uk(text: str) -> str:
    """`text` with its Cyrillic letters romanised by the Ukrainian national scheme (KMU
    2010), case kept: "зг" is "zgh" (not "zh"), apostrophes and soft signs are dropped."""
    out: list[str] = []
    previous = ""
    for i, ch in enumerate(text):
        lower = ch.lower()
        if lower in _APOSTROPHES and previous.isalpha():
            continue  # "П'ятниця" -> "Piatnytsia"
        latin: str | None
        if lower in _UKRAINIAN_INSIDE:
            initial = not previous.isalpha()
            latin = (_UKRAINIAN_INITIAL if initial else _UKRAINIAN_INSIDE)[lower]
        elif lower == "г" and previous == "з":
            latin = "gh"
        else:
            latin = _UKRAINIAN.get(lower) or _LETTERS.get(lower)
        if latin is None:
            out.append(ch)
            previous = lower
            continue
        if ch != lower and latin:
            in_capitals = text[i + 1 : i + 2].isupper() or text[i - 1 : i].isupper()
            latin = latin.upper() if in_capitals else latin[0].upper() + latin[1:]
        out.append(latin)
        previous = lower
    return "".join(out)


def to_latin(text: str) -> str:
    """`text` with its Cyrillic letters romanised (BGN/PCGN), case kept; others as they are."""
    if not has_cyrillic(text):
        return text
    out: list[str] = []
    previous = ""
    for i, ch in enumerate(text):
        lower = ch.lower()
        latin = _LETTERS.get(lower)
        if latin is None:
            out.append(ch)
        else:
            if lower in "её" and (not previous.isalpha() or previous in _IOTATING):
                latin = "y" + latin
            if ch != lower and latin:
                # A digraph is in capitals only inside a word in capitals ("МИД", "ЧП").
                in_capitals = text[i + 1 : i + 2].isupper() or text[i - 1 : i].isupper()
                latin = latin.upper() if in_capitals else latin[0].upper() + latin[1:]
            out.append(latin)
        previous = lower
    return "".join(out)
