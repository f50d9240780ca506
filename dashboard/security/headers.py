"""Security headers that Dash can live with.

Dash's renderer is started by one inline script (allowed by its hash from
``app.csp_hashes()``), and Plotly.js needs ``'unsafe-eval'``; React sets inline styles.
"""

from __future__ import annotations

from dash import Dash
from flask_talisman import Talisman


def install_security_headers(app: Dash, *, https: bool) -> Talisman:
    csp = {
        "default-src": "'self'",
        "script-src": ["'self'", "'unsafe-eval'", *app.csp_hashes()],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'", "data:"],
        "connect-src": "'self'",
        "worker-src": ["'self'", "blob:"],
        "frame-ancestors": "'none'",
        "form-action": "'self'",
        "base-uri": "'self'",
        "object-src": "'none'",
    }
    # TLS ends at the proxy (Railway), so redirects are the proxy's job; HSTS only over HTTPS.
    return Talisman(
        app.server,
        content_security_policy=csp,
        force_https=False,
        strict_transport_security=https,
        session_cookie_secure=https,
        frame_options="DENY",
        referrer_policy="same-origin",
    )
