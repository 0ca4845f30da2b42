"""Security headers: every response is nosniff; Sift's own pages also get a strict CSP.

The pages load nothing but Sift's own files and run no inline script or style, so the
policy can forbid everything else. The Swagger UI page is left out: its bundle sets
inline styles it does not let us avoid.
"""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
# Endpoints whose HTML comes from a third-party bundle (see the module docstring).
_NO_CSP_ENDPOINTS = {"meta.docs"}


def register_headers(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.mimetype == "text/html" and request.endpoint not in _NO_CSP_ENDPOINTS:
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response
