"""Property: whatever a stored document holds, every endpoint serves it, and the rest.

Hypothesis writes hostile documents (tests/api/hostile.py) straight into a real index,
then asks every endpoint that returns them. A few dozen examples here; `make stress`
runs hundreds against real gunicorn (tests/stress/test_hostile_properties.py).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from api import create_app
from index.reindex import reindex
from tests.api.hostile import check_others, check_served, hostile_documents
from tests.conftest import API_KEY, DATA
from tests.helpers import write_unchecked

# A hang detector, not a performance claim: requests here take milliseconds.
MAX_SECONDS = 10


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    root = tmp_path_factory.mktemp("properties") / "index"
    assert reindex(root, [DATA]).switched
    client = create_app({"index_dir": str(root), "api_key": API_KEY, "rate_limit": "off"})
    client = client.test_client()

    def get(path: str):
        response = client.get(path)
        return response.status_code, response.content_type, response.get_data()

    total = client.get("/api/v1/search?q=coalition").get_json()["total"]
    return root, get, total


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(doc=hostile_documents(max_repeats=2000))
def test_any_stored_document_is_served(hostile_app, doc):
    root, get, total = hostile_app
    write_unchecked(root, [doc])
    check_served(get, doc, MAX_SECONDS)
    check_others(get, total)
