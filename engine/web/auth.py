"""Who may see case data, and whether a POST came from the view's own pages.

Two ways in:

* an analyst session (browsers): ``POST /login`` with a name and password checked against
  the scrypt entries in ``analysts`` (:mod:`engine.analysts`) sets a cookie holding only a
  random session id (:mod:`engine.web.sessions`). Only a session may decide a case.
* the operator's ``analyst_token`` as ``Authorization: Bearer`` (scripts and tools): read
  only, never in a URL, never from a cookie.

Every POST carries the session's CSRF token (the login form: a one-off token in a cookie of
its own, as there is no session yet), and a POST whose ``Origin`` or ``Sec-Fetch-Site``
says it came from another site is refused before anything else is read.
"""

from __future__ import annotations

import hmac
import urllib.parse

from engine.web.render import e, page

SESSION_COOKIE = "protect_session"
LOGIN_COOKIE = "protect_login"
SAME_SITE_FETCHES = ("same-origin", "none")  # "none": typed into the address bar


def bearer_of(request) -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else ""


def is_authorized(given: str, configured: str) -> bool:
    return (
        bool(configured)
        and bool(given)
        and hmac.compare_digest(given.encode(), configured.encode())
    )


def cookie_name(base: str, secure: bool) -> str:
    # __Host-: the browser takes it only with Secure, Path=/ and no Domain, so another
    # host of the domain cannot plant or read it. Without Secure the prefix is refused.
    return f"__Host-{base}" if secure else base


def cross_site(request) -> str:
    """Why this request looks like it came from another site ("" if it does not).

    Browsers send ``Sec-Fetch-Site`` on every request, and a page cannot forge it: when
    it is there it decides. ``Origin`` is the fallback for older browsers; it is compared
    with the ``Host`` the request was sent to (a reverse proxy in front must pass the
    original Host on). The pages' ``Referrer-Policy: no-referrer`` makes a browser send
    ``Origin: null`` even for the view's own forms, which is why ``Sec-Fetch-Site`` must
    come first. A client that sends neither (a script) is no CSRF vector and still needs
    the CSRF token.
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if fetch_site in SAME_SITE_FETCHES:
            return ""
        return f"Sec-Fetch-Site is {fetch_site!r}"
    origin = request.headers.get("Origin")
    if origin is not None and (
        origin == "null" or urllib.parse.urlsplit(origin).netloc != request.host
    ):
        return "Origin is not this server"
    return ""


def safe_next(target: str) -> str:
    """Where to go after login: a page of the view, never an open redirect."""
    if not target.startswith("/cases") or "//" in target or "\\" in target:
        return "/cases"
    return target


def sign_in_page(csrf: str = "", next_path: str = "/cases", problem: str = "") -> str:
    """The login form (without ``csrf``: a note that the page needs a sign-in)."""
    if not csrf:
        body = (
            '<h1>Sign-in required</h1><p>This page needs an analyst sign-in: <a href="/login">'
            "sign in</a>. Tools send <code>Authorization: Bearer …</code>.</p>"
        )
        return page("Sign-in required", body)
    warn = f'<p class="warn">{e(problem)}</p>' if problem else ""
    body = (
        f"<h1>Analyst sign-in</h1>{warn}"
        '<form method="post" action="/login" id="login">'
        f'<input type="hidden" name="csrf" value="{e(csrf)}">'
        f'<input type="hidden" name="next" value="{e(safe_next(next_path))}">'
        '<p><label>Name <input name="username" required maxlength="64" '
        'autocomplete="username"></label></p>'
        '<p><label>Password <input name="password" type="password" required maxlength="1024" '
        'autocomplete="current-password"></label></p>'
        '<p><button class="btn" type="submit">Sign in</button></p></form>'
    )
    return page("Sign in", body)
