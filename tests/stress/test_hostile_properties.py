"""The hostile-document property at length, over real gunicorn: hundreds of documents
written past every check (tests/api/hostile.py), each asked of every endpoint that can
return it; no 5xx, valid UTF-8, strict JSON, no traceback in the server's log, the rest
of the archive still served. Figures: test-artifacts/stress/hostile_properties.json.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings

from index.reindex import reindex
from tests.api.hostile import check_others, check_served, hostile_documents
from tests.conftest import DATA
from tests.helpers import write_unchecked
from tests.servers import gunicorn
from tests.stress.conftest import record

EXAMPLES = 150
# About a second is the promise for any query; this is a hang detector above it.
MAX_SECONDS = 5


def _get(base: str):
    def get(path: str):
        try:
            with urllib.request.urlopen(base + path, timeout=60) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers["Content-Type"], error.read()

    return get


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_hostile_documents_over_gunicorn(tmp_path):
    root = tmp_path / "index"
    assert reindex(root, [DATA]).switched
    figures = {"examples": 0, "slowest_request_s": 0.0}
    with gunicorn(root, tmp_path, workers=2, rate_limit="off") as server:
        get = _get(server.base)
        total = json.loads(get("/api/v1/search?q=coalition")[2])["total"]
        started = time.monotonic()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(doc=hostile_documents(max_repeats=50_000))
        def served(doc):
            write_unchecked(root, [doc])
            slowest = check_served(get, doc, MAX_SECONDS)
            check_others(get, total)
            figures["examples"] += 1
            figures["slowest_request_s"] = round(max(figures["slowest_request_s"], slowest), 3)

        served()
        figures["seconds"] = round(time.monotonic() - started, 1)
        assert "Traceback" not in server.log()
    record("hostile_properties", figures)
