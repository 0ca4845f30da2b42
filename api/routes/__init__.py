"""HTTP routes, one module per resource."""

from flask import Flask


def register_routes(app: Flask) -> None:
    # Imported here so that importing one route module (api.timeline_view uses
    # api.routes.search) does not import all of them, pages included, which imports it.
    from api.routes import documents, meta, pages, search, stories

    for module in (search, documents, stories, meta, pages):
        app.register_blueprint(module.blueprint)
