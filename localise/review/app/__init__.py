"""The review web app: ``create_app(settings)`` returns a FastAPI application.

Server-rendered pages (Jinja2, autoescaped) for reviewers behind a login (server-side sessions,
CSRF tokens); a JSON API behind bearer tokens for items, XLIFF and localisation jobs. Every request
passes the gate (:mod:`.gate`) first: caller, origin, body size, CSRF, audit. No front-end build:
one small script and stylesheet are served from ``static/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from localise.review.app.settings import ReviewSettings

HERE = Path(__file__).resolve().parent


def create_app(settings: ReviewSettings | None = None, *, store: Any = None) -> Any:
    """A configured app; ``store`` (a :class:`ReviewStore`) defaults to ``settings.db_url``."""
    import jinja2
    from fastapi import FastAPI, Request, status
    from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
    from fastapi.staticfiles import StaticFiles
    from fastapi.templating import Jinja2Templates

    from localise.errors import ConfigError, LocaliseError
    from localise.review.access import ScopeError
    from localise.review.app import admin, api, jobs, pages
    from localise.review.app.deps import LoginRequired, ReviewService
    from localise.review.app.gate import Gate
    from localise.review.store import ReviewStore

    settings = (settings or ReviewSettings()).check()
    store = store or ReviewStore(settings.db_url)
    if not settings.tokens and not store.accounts.has_active_tokens():
        raise ConfigError("no reviewer tokens: create one with `localise review token add NAME --role admin "
                          "--all-series`, or set LOCALISE_REVIEW_TOKENS=name:token[,name:token...] (admin)")
    app = FastAPI(title="localise review", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters["timecode"] = _timecode
    app.state.templates = Jinja2Templates(env=env, context_processors=[_page_context])
    app.state.service = ReviewService(settings=settings, store=store)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(pages.router)
    app.include_router(admin.router)
    app.include_router(api.router)
    app.include_router(jobs.router)
    app.add_middleware(Gate, service=app.state.service)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse("/login", status.HTTP_303_SEE_OTHER)

    @app.exception_handler(LocaliseError)
    async def _bad_request(request: Request, exc: LocaliseError):
        code = status.HTTP_403_FORBIDDEN if isinstance(exc, ScopeError) else status.HTTP_400_BAD_REQUEST
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, code)
        return PlainTextResponse(str(exc), code)

    return app


def _page_context(request: Any) -> dict[str, Any]:
    """What every template may use: the caller and the session's CSRF token."""
    session = getattr(request.state, "session", None)
    return {"principal": getattr(request.state, "principal", None), "csrf": session.csrf if session else ""}


def _timecode(ms: int) -> str:
    s, ms = divmod(int(ms), 1000)
    m, s = divmod(s, 60)
    return f"{m // 60:02d}:{m % 60:02d}:{s:02d}.{ms:03d}"
