"""Response headers and trusted proxies for both web apps.

Every response gets a strict content security policy (no inline script or style anywhere), no
framing, no sniffing, and ``Cache-Control: no-store`` unless its view marked it cacheable;
``X-Forwarded-*`` headers are believed only from the configured number of proxies.
"""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

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


def install_security_headers(app: Flask) -> None:
    """Add the headers to every response of ``app``."""

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if "Cache-Control" not in response.headers:
            # Anything not marked cacheable by its view may be personal (staff pages): never store it.
            response.headers["Cache-Control"] = "no-store"
        return response


def install_proxy_fix(app: Flask, hops: int) -> None:
    """Believe ``hops`` entries of ``X-Forwarded-For``/``-Proto``/``-Host``/``-Port`` (none when 0).

    Call it after everything else that wraps ``app.wsgi_app`` (Flask-SocketIO does): the fix must
    be the outermost layer so that websocket connections see the same client address as pages.

    Raises:
        ValueError: for a negative hop count.
    """
    if hops < 0:
        raise ValueError(f"hops must be >= 0, got {hops}")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
