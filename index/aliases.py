"""The alias table: every surface form of an actor (or place) under one canonical name.

The table is `index/data/aliases.toml` (versioned, documented in its header). Extraction
files mentions under canonical names so facet counts merge; search expands a query for
any variant to all of them. One convention binds both sides: a variant written in
capitals with at most four letters (`IS`, `US`, `UN`) matches case-sensitively, so the
word "is" is never the Islamic State; every other variant matches regardless of case.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

PLACE = "place"


def is_case_sensitive(variant: str) -> bool:
    """True for short all-capital variants (`IS`, `U.S.`), which match only as written."""
    letters = [ch for ch in variant if ch.isalpha()]
    return 0 < len(letters) <= 4 and all(ch.isupper() for ch in letters)


def match_key(variant: str) -> str:
    """The key a surface form is looked up under: itself if case-sensitive, else casefolded."""
    return variant if is_case_sensitive(variant) else variant.casefold()


@dataclass(frozen=True)
class AliasTable:
    version: int
    to_canonical: dict[str, str]  # match_key(variant) -> canonical name
    variants: dict[str, list[str]]  # canonical -> surface forms, canonical first
    types: dict[str, str]  # canonical -> "person" | "organisation" | "place"


@cache
def table() -> AliasTable:
    """The parsed alias table, loaded once per process."""
    text = resources.files("index").joinpath("data/aliases.toml").read_text("utf-8")
    data = tomllib.loads(text)
    to_canonical: dict[str, str] = {}
    variants: dict[str, list[str]] = {}
    types: dict[str, str] = {}
    entries = [(name, e["type"], e["variants"]) for name, e in data["actors"].items()]
    entries += [(name, PLACE, e["variants"]) for name, e in data["places"].items()]
    for name, kind, names in entries:
        forms = list(dict.fromkeys([name, *names]))
        variants[name] = forms
        types[name] = kind
        for form in forms:
            key = match_key(form)
            if to_canonical.setdefault(key, name) != name:
                raise ValueError(
                    f"aliases.toml: {form!r} names both {to_canonical[key]!r} and {name!r}"
                )
    return AliasTable(data["version"], to_canonical, variants, types)


def _lookup(name: str) -> str | None:
    # Case-sensitive variants are stored as written and contain capitals, so the casefolded
    # lookup can never reach them: "is" finds nothing, "IS" finds the Islamic State.
    name = " ".join(name.split())
    found = table().to_canonical.get(name)
    return found if found is not None else table().to_canonical.get(name.casefold())


def canonical(name: str) -> str | None:
    """The canonical actor name for `name` if the table knows it as a variant, else None."""
    found = _lookup(name)
    return found if found is not None and table().types[found] != PLACE else None


def canonical_place(name: str) -> str | None:
    """The canonical place name for `name` if the table lists it, else None."""
    found = _lookup(name)
    return found if found is not None and table().types[found] == PLACE else None


def actor_type(canonical_name: str) -> str | None:
    """`person` or `organisation` for a canonical actor in the table, else None."""
    kind = table().types.get(canonical_name)
    return kind if kind != PLACE else None


def variants(canonical_name: str) -> list[str]:
    """Every surface form of a canonical actor or place (the name itself first)."""
    return list(table().variants.get(canonical_name, [canonical_name]))
