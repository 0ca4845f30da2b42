"""Sift's app without its metrics hooks: the control arm of benchmarks/metrics_cost.py."""

from api import create_app

app = create_app()
for hooks in (*app.before_request_funcs.values(), *app.after_request_funcs.values()):
    hooks[:] = [hook for hook in hooks if hook.__module__ != "api.metrics"]
