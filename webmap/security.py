"""Response headers: a strict content security policy, no framing, CORS for the public API only."""

from __future__ import annotations

from flask import Flask, Response, request

# No inline scripts or styles anywhere: every script and stylesheet is a file under /static.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Read-only, unauthenticated endpoints that any site may fetch (PRIVACY.md P5: public pages are read-only).
PUBLIC_API_PREFIX = "/api/v1/"


def install_security_headers(app: Flask) -> None:
    """Add the headers to every response of ``app``."""

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith(PUBLIC_API_PREFIX) and request.method in ("GET", "HEAD", "OPTIONS"):
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
            response.headers["Access-Control-Max-Age"] = "86400"
        if "Cache-Control" not in response.headers:
            # Anything not marked cacheable by its view may be personal (staff pages): never store it.
            response.headers["Cache-Control"] = "no-store"
        return response
