"""The WSGI entry point gunicorn loads (in each worker: the app is not preloaded)."""

from api import create_app

app = create_app()
