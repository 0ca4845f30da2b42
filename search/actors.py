"""Actor names as users type them, resolved through the alias table."""

from __future__ import annotations

from index import aliases

# At query time users type acronyms in lower case ("isil", "daesh"). Forms of four letters
# or more are resolved whatever their case; shorter ones only as written, because "is",
# "us" and "un" are ordinary words far more often than they are the Islamic State.
MIN_CASELESS_ACRONYM = 4


def resolve_actor(text: str) -> str | None:
    """The canonical actor `text` names, if the alias table knows it."""
    found = aliases.canonical(text)
    if found is None and len(text) >= MIN_CASELESS_ACRONYM and text.isalpha():
        found = aliases.canonical(text.upper())
    return found
