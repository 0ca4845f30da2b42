"""The alias table: variants of an actor's name mapped to one canonical name."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def _table() -> tuple[dict[str, str], dict[str, list[str]]]:
    data = json.loads(resources.files("index").joinpath("data/aliases.json").read_text("utf-8"))
    to_canonical: dict[str, str] = {}
    variants: dict[str, list[str]] = {}
    for canonical, names in data["actors"].items():
        forms = [canonical, *names]
        variants[canonical] = forms
        for form in forms:
            to_canonical[form.casefold()] = canonical
    return to_canonical, variants


def canonical(name: str) -> str | None:
    """The canonical name for `name` if the table knows it as a variant, else None."""
    return _table()[0].get(name.casefold())


def variants(canonical_name: str) -> list[str]:
    """Every surface form of a canonical actor (the name itself first)."""
    return _table()[1].get(canonical_name, [canonical_name])
