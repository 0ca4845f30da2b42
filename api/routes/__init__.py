"""HTTP routes, one module per resource."""

from flask import Flask

from api.routes import documents, meta, pages, search


def register_routes(app: Flask) -> None:
    for module in (search, documents, meta, pages):
        app.register_blueprint(module.blueprint)
