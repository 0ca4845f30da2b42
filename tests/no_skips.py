"""A pytest plugin (loaded by tests/conftest.py): a skipped test fails.

Sift's tests need real tools (Chromium, searchd, the corpora in ../shared/data) and
`make test` installs them; a test that skipped when one was missing would let a suite
pass that checked nothing. So whatever skips, a marker or a call deep in a fixture, is
reported as a failure saying what was skipped and why.
"""

from __future__ import annotations

import pytest

FAILED_SKIP = (
    "Sift's tests never skip (tests/no_skips.py); install what is missing with `make test-tools`"
)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"{FAILED_SKIP}. Skipped: {reason}"
