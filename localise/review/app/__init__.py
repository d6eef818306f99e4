"""The review web app: ``create_app(settings)`` returns a FastAPI application.

Server-rendered pages (Jinja2, autoescaped) for reviewers behind a login; a JSON API behind bearer
tokens for items, XLIFF and localisation jobs. No front-end build: one small script and stylesheet
are served from ``static/``."""

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

    from localise.errors import LocaliseError
    from localise.review.app import api, jobs, pages
    from localise.review.app.deps import LoginRequired, ReviewService
    from localise.review.store import ReviewStore

    settings = (settings or ReviewSettings()).check()
    app = FastAPI(title="localise review", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    env.filters["timecode"] = _timecode
    app.state.templates = Jinja2Templates(env=env)
    app.state.service = ReviewService(settings=settings, store=store or ReviewStore(settings.db_url))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(jobs.router)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> RedirectResponse:
        return RedirectResponse("/login", status.HTTP_303_SEE_OTHER)

    @app.exception_handler(LocaliseError)
    async def _bad_request(request: Request, exc: LocaliseError):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status.HTTP_400_BAD_REQUEST)
        return PlainTextResponse(str(exc), status.HTTP_400_BAD_REQUEST)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    return app


def _timecode(ms: int) -> str:
    s, ms = divmod(int(ms), 1000)
    m, s = divmod(s, 60)
    return f"{m // 60:02d}:{m % 60:02d}:{s:02d}.{ms:03d}"
