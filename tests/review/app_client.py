"""Signing in to the review app through a TestClient the way a browser does: the login page's
form token and cookie, then the session's CSRF token read from the queue page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

ORIGIN = "http://testserver"  # TestClient's own origin; the gate wants it on every form post
_FIELD = re.compile(r'name="(csrf_token|login_token)" value="([^"]*)"')


def form_token(html: str, field: str) -> str:
    for name, value in _FIELD.findall(html):
        if name == field:
            return value
    raise AssertionError(f"no {field} in the page")


def new_client(app) -> TestClient:
    return TestClient(app, headers={"Origin": ORIGIN})


def login(client: TestClient, token: str, *, expect: int = 303) -> str | None:
    """Log in with ``token``; returns the session's CSRF token (also set as the client's
    X-CSRF-Token header, so plain ``client.post`` form calls pass)."""
    page = client.get("/login")
    response = client.post("/login", data={"token": token, "login_token": form_token(page.text, "login_token")},
                           follow_redirects=False)
    assert response.status_code == expect, response.text
    if expect != 303:
        return None
    csrf = form_token(client.get("/queue").text, "csrf_token")
    client.headers["X-CSRF-Token"] = csrf
    return csrf
