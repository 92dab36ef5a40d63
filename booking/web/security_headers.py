"""Security headers on every response.

The manage URL will carry a token, hence ``Referrer-Policy: no-referrer``; pages can hold
health data, hence ``no-store`` on everything but the stylesheet, the script and the icon.
"""

from flask import Response, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

# The endpoints whose responses hold nobody's data, and set their own cache lifetimes.
CACHEABLE = {"static", "assets.asset", "assets.favicon"}


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint not in CACHEABLE:
        headers["Cache-Control"] = "no-store"
    return response
