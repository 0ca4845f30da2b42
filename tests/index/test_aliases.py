"""The alias table: one canonical name per actor, short capitals matched as written."""

import pytest

from index import aliases


@pytest.mark.parametrize(
    "variant",
    [
        "IS",
        "ISIS",
        "ISIL",
        "Daesh",
        "Islamic State of Iraq and the Levant",
        "islamic state",
        "Islamic State",
    ],
)
def test_islamic_state_variants(variant):
    assert aliases.canonical(variant) == "Islamic State"


def test_short_capital_variants_are_case_sensitive():
    assert aliases.canonical("is") is None
    assert aliases.canonical("Is") is None
    assert aliases.canonical("us") is None
    assert aliases.is_case_sensitive("IS") and aliases.is_case_sensitive("U.S.")
    assert not aliases.is_case_sensitive("Nato") and not aliases.is_case_sensitive("ISIS-K")


def test_other_variants_ignore_case():
    assert aliases.canonical("Nato") == aliases.canonical("nato") == "NATO"
    assert aliases.canonical("north atlantic treaty organization") == "NATO"


def test_places_are_kept_apart_from_actors():
    assert aliases.canonical("U.S.") is None
    assert aliases.canonical_place("U.S.") == aliases.canonical_place("US") == "United States"
    assert aliases.canonical_place("United States") == "United States"


def test_variants_start_with_the_canonical_name():
    forms = aliases.variants("Islamic State")
    assert forms[0] == "Islamic State" and {"IS", "ISIL", "Daesh"} <= set(forms)
    assert aliases.variants("Someone Unknown") == ["Someone Unknown"]


def test_every_variant_maps_back_to_its_canonical_name():
    table = aliases.table()
    for name, forms in table.variants.items():
        lookup = (
            aliases.canonical if table.types[name] != aliases.PLACE else aliases.canonical_place
        )
        assert all(lookup(form) == name for form in forms), name
        assert table.types[name] in ("person", "organisation", aliases.PLACE)


def test_unknown_names_have_no_canonical_form():
    assert aliases.canonical("Stoltenberg") is None
    assert aliases.actor_type("Islamic State") == "organisation"
