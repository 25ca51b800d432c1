"""Who may see case data: the analyst token, from a bearer header or the login cookie."""

from __future__ import annotations

import hmac

from engine.web.render import page


def token_of(request) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip()
    return request.cookies.get("token", "")


def is_authorized(given: str, configured: str) -> bool:
    return (
        bool(configured)
        and bool(given)
        and hmac.compare_digest(given.encode(), configured.encode())
    )


def sign_in_page() -> str:
    return page(
        "Sign-in required",
        (
            "<h1>Sign-in required</h1><p>This page needs the analyst token: open "
            "<code>/login?token=…</code> or send <code>Authorization: Bearer …</code>.</p>"
        ),
    )
