"""Docs that are tested: every setting, parameter and error type in the code is documented
(in the README or a page of docs/), and the README opens with the two commands."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from api import schemas
from api.errors import PROBLEM_TYPES
from api.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")
DOCS = "\n".join([README, *(page.read_text("utf-8") for page in sorted(ROOT.glob("docs/*.md")))])


def test_readme_opens_with_the_two_commands():
    head = README[:600]
    assert "make run" in head and "make test" in head


@pytest.mark.parametrize("name", [f.name for f in fields(Settings)])
def test_every_setting_is_documented(name):
    assert f"SIFT_{name.upper()}" in DOCS


@pytest.mark.parametrize(
    "schema",
    [
        schemas.SearchArgs,
        schemas.TimelineArgs,
        schemas.SuggestArgs,
        schemas.SimilarArgs,
        schemas.ExportArgs,
        schemas.PageArgs,
    ],
)
def test_every_query_parameter_is_documented(schema):
    for name in schema().fields:
        assert f"`{name}`" in DOCS, name


@pytest.mark.parametrize("slug", sorted(PROBLEM_TYPES))
def test_every_problem_type_is_documented(slug):
    assert f"/problems/{slug}" in DOCS
