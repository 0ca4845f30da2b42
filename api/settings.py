"""Settings: defaults, then the environment (SIFT_*), then what the caller passes in."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.limits import parse_limit
from index.validate import MAX_DOCUMENT_BYTES, MAX_INFLATED_BYTES, Limits

if TYPE_CHECKING:
    from search.backend import Backend


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path("var/index")  # SIFT_INDEX_DIR: where the index lives
    api_key: str | None = None  # SIFT_API_KEY: unlocks write endpoints; unset = refused
    host: str = "127.0.0.1"  # SIFT_HOST: `sift serve` binding
    port: int = 8000  # SIFT_PORT
    workers: int = 2  # SIFT_WORKERS: gunicorn worker processes
    max_body_bytes: int = 10 * 1024 * 1024  # SIFT_MAX_BODY_BYTES: larger bodies get 413
    max_batch_documents: int = 1000  # SIFT_MAX_BATCH_DOCUMENTS: documents per POST
    write_wait_s: float = 5.0  # SIFT_WRITE_WAIT_S: how long a write waits to be searchable
    query_budget_ms: int = 500  # SIFT_QUERY_BUDGET_MS: work one query may take; 0 = unlimited
    # SIFT_RATE_LIMIT: requests per client; "off". 100 people behind one address, each
    # typing a search every 30 s (25 requests: one completion a keystroke), stay under it
    # (docs/operations.md, "Rate limits").
    rate_limit: str = "6000/minute"
    write_rate_limit: str = "600/minute"  # SIFT_WRITE_RATE_LIMIT: writes per client; "off"
    # SIFT_RATE_LIMIT_STORAGE: the SQLite file all workers count in (default: in index_dir)
    rate_limit_storage: Path | None = None
    cors_origins: str = ""  # SIFT_CORS_ORIGINS: comma list of origins that may read; "" = off
    # SIFT_MAX_DOCUMENT_BYTES: largest document text (UTF-8 bytes), in files and writes
    max_document_bytes: int = MAX_DOCUMENT_BYTES
    # SIFT_MAX_INFLATED_BYTES: most a .jsonl.gz input may inflate to
    max_inflated_bytes: int = MAX_INFLATED_BYTES
    # SIFT_SOURCES_FILE: a TOML file of outlets (domains -> names) added to the shipped table
    sources_file: Path | None = None
    # SIFT_CLUSTER: a cluster.toml (or its folder): serve that SphinxQL cluster, not index_dir
    cluster: Path | None = None
    # SIFT_CLUSTER_PARTIAL: "report" answers with `"partial": true` while a shard has no live
    # replica; "fail" answers 503 instead
    cluster_partial: str = "report"
    # SIFT_TRUSTED_PROXIES: reverse proxies in front of Sift whose X-Forwarded-For is believed
    trusted_proxies: int = 0

    @property
    def input_limits(self) -> Limits:
        """The caps every input path checks records against (index/validate.py)."""
        return Limits(self.max_document_bytes, self.max_inflated_bytes)


def open_backend(settings: Settings) -> Backend:
    """The backend these settings name (the one place the CLI and the app build it)."""
    from search.backend import open_backend as open_named

    return open_named(
        settings.index_dir, cluster=settings.cluster, budget_s=settings.query_budget_ms / 1000
    )


CLUSTER_PARTIAL = ("report", "fail")


def _choice(value: object, allowed: tuple[str, ...]) -> str:
    if str(value) not in allowed:
        raise ValueError(value)
    return str(value)


def _limit(value: object) -> str:
    parse_limit(str(value))  # refuse a malformed limit at startup, not per request
    return str(value)


def _count(value: object) -> int:
    number = int(str(value))
    if number < 0:
        raise ValueError(value)
    return number


_ENV_PREFIX = "SIFT_"
# How each setting is read from text (environment) or given values.
_PARSERS: dict[str, Callable[[Any], object]] = {
    "index_dir": Path,
    "api_key": lambda value: str(value) or None,
    "host": str,
    "port": int,
    "workers": int,
    "max_body_bytes": int,
    "max_batch_documents": int,
    "write_wait_s": float,
    "query_budget_ms": int,
    "rate_limit": _limit,
    "write_rate_limit": _limit,
    "rate_limit_storage": Path,
    "cors_origins": str,
    "max_document_bytes": int,
    "max_inflated_bytes": int,
    "trusted_proxies": _count,
    "sources_file": lambda value: Path(value) if str(value) else None,
    "cluster": lambda value: Path(value) if str(value) else None,
    "cluster_partial": lambda value: _choice(value, CLUSTER_PARTIAL),
}


def _parse(name: str, value: object) -> object:
    if name not in _PARSERS:
        raise ValueError(f"unknown setting {name!r}")
    if value is None:
        return None
    try:
        return _PARSERS[name](value)
    except (TypeError, ValueError):
        raise ValueError(
            f"setting {name} ({_ENV_PREFIX}{name.upper()}): invalid value {value!r}"
        ) from None


def load_settings(
    overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Defaults, overridden by SIFT_* environment variables, overridden by `overrides`."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        env_value = environ.get(_ENV_PREFIX + f.name.upper())
        if env_value is not None:
            values[f.name] = _parse(f.name, env_value)
    for name, value in (overrides or {}).items():
        values[name.lower()] = _parse(name.lower(), value)
    return replace(Settings(), **values)
