"""The gate: one ASGI middleware in front of every route, so that nothing is parsed for a caller
who is not let in.

In order, for each request:

1. who is calling — a bearer token on ``/api/`` (401 without one), the session cookie on the pages
   (a state-changing page call without a session goes to the login page);
2. for state-changing page calls (and the login form): the ``Origin`` (or, without one, the
   ``Referer``) must be this app's own origin — a page on the same host at another port is another
   origin, though cookies do not tell them apart; the login form is also rate limited per address;
3. the body: refused with 413 when ``Content-Length`` says it is too big, else read up to the limit
   (JSON and forms ``max_body_bytes``, XLIFF uploads ``max_upload_bytes``) and handed on whole;
4. page forms: the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``);
5. the route runs; the response gets ``Cache-Control: no-store`` and the security headers;
6. state-changing calls of a known caller (and every login attempt) are written to the audit log.

So an unauthenticated 200 MB post costs a header check, and invalid JSON without a token is 401."""

from __future__ import annotations

import hmac
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from anyio import to_thread
from starlette.datastructures import Headers
from starlette.requests import Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_COOKIE = "localise_session"
LOGIN_COOKIE = "localise_login"
SECURE_PREFIX = "__Host-"  # a Secure cookie no other host or path can set or shadow
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UPLOAD_PATHS = frozenset({"/api/xliff"})
READ_ONLY_POST_SUFFIXES = ("/check",)  # the live check while typing changes nothing: not audited
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def cookie_name(base: str, secure: bool) -> str:
    return f"{SECURE_PREFIX}{base}" if secure else base


class BodyTooLarge(Exception):
    pass


async def read_capped(receive: Any, limit: int) -> bytes:
    """The whole request body, or :class:`BodyTooLarge` as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyTooLarge("client went away")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Any) -> Any:
    sent = False

    async def replayed() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def own_origins(scope: dict[str, Any], headers: Headers, configured: list[str]) -> set[str]:
    origins = {o.rstrip("/") for o in configured}
    host = headers.get("host")
    if host:
        origins.add(f"{scope.get('scheme', 'http')}://{host}")
    return origins


def same_origin(scope: dict[str, Any], headers: Headers, configured: list[str]) -> bool:
    """The request comes from one of this app's pages: its ``Origin``, or without one its
    ``Referer``, is this app's origin. Neither (or ``Origin: null``) is refused."""
    allowed = own_origins(scope, headers, configured)
    origin = headers.get("origin")
    if origin is not None:
        return origin.rstrip("/") in allowed
    referer = headers.get("referer")
    if referer:
        parts = urlsplit(referer)
        return f"{parts.scheme}://{parts.netloc}" in allowed
    return False


class Gate:
    """ASGI middleware; ``service`` is the app's :class:`~localise.review.app.deps.ReviewService`."""

    def __init__(self, app: Any, service: Any) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path.startswith("/static/"):
            await self.app(scope, receive, self._headers(send, static=True))
            return
        settings = self.service.settings
        request = Request(scope)  # headers and cookies only; the body is not touched here
        headers = request.headers
        client = request.client.host if request.client else None
        state = scope.setdefault("state", {})
        unsafe = method not in SAFE_METHODS
        secure = self.service.secure_cookies(scope.get("scheme", "http"))
        api = path == "/api" or path.startswith("/api/")
        login = path == "/login"
        principal = session = None

        async def refuse(status: int, detail: str, **extra_headers: str) -> None:
            if principal is not None or (login and unsafe):
                await self._audit(principal, method, path, status, client, {"refused": detail})
            await self._plain(send, status, detail, json_body=api, headers=extra_headers)

        if api:
            scheme, _, token = headers.get("authorization", "").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                principal = await to_thread.run_sync(self.service.principal_for_token, token.strip())
            if principal is None:
                await refuse(401, "a valid bearer token is required", **{"www-authenticate": "Bearer"})
                return
        elif not login:
            found = await to_thread.run_sync(self.service.session_principal,
                                             request.cookies.get(cookie_name(SESSION_COOKIE, secure)))
            if found is not None:
                session, principal = found
            if unsafe and principal is None:
                await self._plain(send, 303, "log in first", json_body=False, headers={"location": "/login"})
                return
        state["principal"], state["session"] = principal, session

        if unsafe and not api:
            limiter = self.service.login_limiter if login and client is not None else None
            if limiter is not None:  # before anything is written: a blocked address adds no audit rows
                wait = limiter.retry_after(client)
                if wait:
                    await self._plain(send, 429, "too many failed logins; try again later", json_body=False,
                                      headers={"retry-after": str(wait)})
                    return
            if not same_origin(scope, headers, settings.public_origins):
                if limiter is not None:
                    limiter.fail(client)
                await refuse(403, "cross-origin request refused (Origin/Referer is not this site)")
                return

        if unsafe:
            limit = settings.max_upload_bytes if path in UPLOAD_PATHS else settings.max_body_bytes
            declared = headers.get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                await refuse(413, f"request body over {limit} bytes", connection="close")
                return
            try:
                body = await read_capped(receive, limit)
            except BodyTooLarge as exc:
                await refuse(413, str(exc), connection="close")
                return
            if session is not None and not self._csrf_ok(session.csrf, headers, body):
                await refuse(403, "missing or wrong CSRF token (reload the page)")
                return
            receive = _replay(body, receive)

        sent: dict[str, int] = {}
        await self.app(scope, receive, self._headers(send, sent=sent))
        if unsafe and not path.endswith(READ_ONLY_POST_SUFFIXES) and (
                principal is not None or login or state.get("principal") is not None):
            await self._audit(state.get("principal") or principal, method, path, sent.get("status", 500), client,
                              state.get("audit"))

    @staticmethod
    def _csrf_ok(expected: str, headers: Headers, body: bytes) -> bool:
        given = headers.get(CSRF_HEADER)
        if given is None and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            values = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(CSRF_FIELD)
            given = values[0] if values else None
        return given is not None and hmac.compare_digest(given.encode(), expected.encode())

    async def _audit(self, principal: Any, method: str, path: str, status: int, client: str | None,
                     detail: dict[str, Any] | None) -> None:
        await to_thread.run_sync(lambda: self.service.store.accounts.record(
            principal=principal, method=method, path=path, status=status, client=client, detail=detail))

    @staticmethod
    def _headers(send: Any, *, static: bool = False, sent: dict[str, int] | None = None) -> Any:
        async def wrapped(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                if sent is not None:
                    sent["status"] = message["status"]
                raw = list(message.get("headers", []))
                present = {k.lower() for k, _ in raw}
                extra = dict(SECURITY_HEADERS)
                if not static:
                    extra["cache-control"] = "no-store"
                for key, value in extra.items():
                    if key.encode() not in present:
                        raw.append((key.encode(), value.encode()))
                message = {**message, "headers": raw}
            await send(message)

        return wrapped

    async def _plain(self, send: Any, status: int, detail: str, *, json_body: bool,
                     headers: dict[str, str] | None = None) -> None:
        if json_body:
            body, ctype = json.dumps({"detail": detail}).encode(), b"application/json"
        else:
            body, ctype = detail.encode(), b"text/plain; charset=utf-8"
        raw = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
        raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        send = self._headers(send)
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
