"""Property-based fuzzing of the HTTP API from its own OpenAPI document (schemathesis).

Two runs against real gunicorn, with the write key and without, of every check
schemathesis has (server errors, status codes and content types as documented, response
schemas, negative data rejected, ...) but one: `positive_data_acceptance`, because the
OpenAPI document cannot express Sift's cross-field rules (date_from after date_to,
`text` or `body`, page * per_page), which rightly answer 400.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from index.reindex import reindex
from tests.conftest import DATA, SEEDS
from tests.servers import API_KEY, gunicorn
from tests.stress.conftest import record

EXAMPLES_PER_OPERATION = 120
MIN_CASES = 2000
ST = Path(sys.executable).parent / "st"


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_schemathesis_finds_nothing(tmp_path):
    root = tmp_path / "index"
    assert reindex(root, [DATA, SEEDS]).switched
    figures = {}
    with gunicorn(root, tmp_path, workers=2, rate_limit="off", write_rate_limit="off") as server:
        for label, headers in (
            ("with key", ["-H", f"Authorization: Bearer {API_KEY}"]),
            ("without key", []),
        ):
            run = subprocess.run(
                [
                    str(ST),
                    "run",
                    server.base + "/api/v1/openapi.json",
                    "-n",
                    str(EXAMPLES_PER_OPERATION),
                    "-c",
                    "all",
                    "--exclude-checks",
                    "positive_data_acceptance",
                    "--max-response-time",
                    "2",
                    "--seed",
                    "20261123",
                    "--generation-database",
                    "none",
                    "--no-color",
                    *headers,
                ],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=900,
            )
            summary = run.stdout[-3000:]
            assert run.returncode == 0, summary
            cases = int(re.search(r"(\d+) generated", run.stdout).group(1))
            assert cases >= MIN_CASES, summary
            figures[label] = {"cases": cases, "failures": 0}
    record("schemathesis", figures)
