"""HTTP and command line: the Flask app factory, schemas, errors, pages and the `sift` CLI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """The Sift app: defaults, then SIFT_* environment, then `config`."""
    # Imported here, not with the package: `sift reindex` and the other commands import
    # `api.cli`, and Flask, the routes and the search engine are a third of a second of
    # start-up they never use.
    from flask import Flask
    from werkzeug.middleware.proxy_fix import ProxyFix

    from api.cors import install_cors, parse_origins
    from api.errors import register_error_handlers
    from api.headers import register_headers
    from api.index_handle import IndexHandle
    from api.limits import DB_FILE, install_rate_limits, parse_limit
    from api.logs import install_request_ids
    from api.metrics import install_metrics
    from api.output import install_output
    from api.page_format import register_formatting
    from api.paths import install_paths
    from api.routes import register_routes
    from api.settings import load_settings, open_backend
    from index.extract.sources import use_sources_file

    settings = load_settings(config)
    use_sources_file(settings.sources_file)
    app = Flask(__name__)
    install_output(app)
    install_paths(app)
    app.config.update(
        SIFT=settings,
        SIFT_INDEX=IndexHandle(open_backend(settings), settings.write_wait_s),
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    if settings.trusted_proxies:
        # The client is the address the nearest trusted proxy saw (X-Forwarded-For), so
        # rate limits count people rather than the proxy, and logs name them.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    register_error_handlers(app)
    # Before the rate limits: a refused request still gets an id, a count and a time.
    install_request_ids(app)
    install_metrics(app)
    install_rate_limits(
        app,
        settings.rate_limit_storage or settings.index_dir / DB_FILE,
        parse_limit(settings.rate_limit),
        parse_limit(settings.write_rate_limit),
    )
    install_cors(app, parse_origins(settings.cors_origins))
    register_headers(app)
    register_formatting(app)
    register_routes(app)
    return app
