"""CSRF and login CSRF in a real browser (issue 12): headless Chromium signed in to the review app
visits a hostile page served from a second origin — the same host (127.0.0.1) on another port,
which cookies do not tell apart and SameSite does not stop. Its forms and scripts try to approve,
reject and edit a line as the signed-in reviewer, to read the CSRF token, and to sign the browser
in under the attacker's token (also after planting the attacker's login cookie, which any page on
the host can do over plain HTTP). Every attempt must fail and change nothing."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.integration.test_review_browser import UvicornThread, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration

REVIEWER = "rita"


def _attacker_app(pages: dict[str, str]):
    """The hostile site: whatever HTML the test puts in ``pages``, no CSP, inline scripts allowed."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    async def serve(request):
        html = pages.get(request.path_params["name"])
        return HTMLResponse(html) if html is not None else Response(status_code=404)

    return Starlette(routes=[Route("/{name}", serve)])


def _autosubmit(action: str, fields: dict[str, str], before: str = "") -> str:
    inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
    return (f'<html><body><form id="f" method="post" action="{action}">{inputs}</form>'
            f"<script>{before}document.getElementById('f').submit();</script></body></html>")


def _login(page, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("#login")
    page.wait_for_url(f"{base}/queue")


def test_cross_origin_forms_and_scripts_change_nothing(tmp_path: Path, browser) -> None:  # noqa: F811
    from tests.review.review_data import EPISODE, make_report

    from localise.review import ReviewStore
    from localise.review.app import create_app
    from localise.review.app.settings import ReviewSettings

    review = ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")
    review.ingest_report(make_report(EPISODE), series="dragon", episode="ep01")
    token, _ = review.accounts.add_token(REVIEWER, "reviewer", ["dragon"])
    first, second, third = (i.id for i in review.items())
    settings = ReviewSettings(db_url=review.url, tokens={}, glossary_dir=None)
    pages: dict[str, str] = {}
    with UvicornThread(create_app(settings, store=review)) as app, UvicornThread(_attacker_app(pages)) as evil:
        assert app.port != evil.port
        target = app.url
        pages["approve.html"] = _autosubmit(f"{target}/items/{first}/approve", {})
        pages["reject-guess.html"] = _autosubmit(f"{target}/items/{second}/reject", {"csrf_token": "guessed"})
        pages["edit.html"] = _autosubmit(f"{target}/items/{third}/edit", {"text": "pwned", "confirm": "yes"})
        pages["fetch.html"] = f"""<html><body><script>
          window.results = {{}};
          async function go() {{
            try {{
              await fetch("{target}/items/{first}/approve", {{method: "POST", mode: "no-cors", credentials: "include",
                body: new URLSearchParams({{csrf_token: "x"}})}});
              window.results.post = "sent";
            }} catch (e) {{ window.results.post = "error"; }}
            try {{
              const r = await fetch("{target}/queue", {{credentials: "include"}});
              window.results.read = await r.text();
            }} catch (e) {{ window.results.read = "blocked"; }}
            window.results.done = true;
          }}
          go();
        </script></body></html>"""

        context = browser.new_context()
        page = context.new_page()
        _login(page, target, token)
        assert page.locator("li.item").count() == 3
        for name in ("approve.html", "reject-guess.html", "edit.html"):
            page.goto(f"{evil.url}/{name}", wait_until="commit")
            page.wait_for_url(re.compile(re.escape(target) + r"/items/\d+/"))
            assert "cross-origin request refused" in page.content(), name
        page.goto(f"{evil.url}/fetch.html")
        page.wait_for_function("window.results && window.results.done === true")
        results = page.evaluate("window.results")
        assert results["read"] == "blocked"  # the CSRF token cannot be read from another origin
        assert [(i.state, i.final_text) for i in review.items(state=None)] == [("open", None)] * 3
        # the reviewer's own page still works (same origin, with its token): the live check while
        # typing (a script POST carrying the CSRF token), then approving with the keyboard
        page.goto(f"{target}/queue")
        area = page.locator("li.item textarea").first
        area.fill("I am the boss.")
        live = page.locator("li.item output.live-check").first
        live.wait_for(state="visible")
        page.wait_for_function("document.querySelector('li.item output.live-check').textContent.length > 0")
        assert "unavailable" not in live.inner_text() and live.inner_text().strip()
        page.locator("li.item").first.focus()
        with page.expect_navigation():
            page.keyboard.press("a")
        assert review.get(first).state == "approved"
        events = review.accounts.events(limit=50)
        refused = [e for e in events if e["status"] == 403 and e["actor"] == REVIEWER]
        assert len(refused) >= 3  # the hostile posts are in the audit log, under the victim's name
        context.close()


def test_login_csrf_is_refused(tmp_path: Path, browser) -> None:  # noqa: F811
    from localise.review import ReviewStore
    from localise.review.app import create_app
    from localise.review.app.settings import ReviewSettings

    review = ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")
    attacker_token, _ = review.accounts.add_token("mallory", "reviewer", ["dragon"])
    victim_token, _ = review.accounts.add_token(REVIEWER, "reviewer", ["dragon"])
    settings = ReviewSettings(db_url=review.url, tokens={}, glossary_dir=None)
    pages: dict[str, str] = {}
    with UvicornThread(create_app(settings, store=review)) as app, UvicornThread(_attacker_app(pages)) as evil:
        target = app.url
        # the attacker fetches a genuine login form for itself: a valid form token and its cookie
        with httpx.Client(base_url=target) as own:
            form = own.get("/login")
            login_token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
            nonce = own.cookies.get("localise_login")
        fields = {"token": attacker_token, "login_token": login_token}
        pages["login.html"] = _autosubmit(f"{target}/login", fields)
        # the same after planting the attacker's login cookie on the host (cookies ignore ports)
        pages["login-tossed.html"] = _autosubmit(f"{target}/login", fields,
                                                 before=f"document.cookie = 'localise_login={nonce}; path=/';")
        pages["login-no-token.html"] = _autosubmit(f"{target}/login", {"token": attacker_token})

        for name in ("login.html", "login-tossed.html", "login-no-token.html"):
            # a fresh browser each time: no login cookie of its own that would shadow a planted one
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{evil.url}/{name}", wait_until="commit")
            page.wait_for_url(f"{target}/login")
            assert "refused" in page.content(), name
            page.goto(f"{target}/queue")
            assert page.url == f"{target}/login", f"{name}: the browser was signed in as the attacker"
            assert "localise_session" not in {c["name"] for c in context.cookies()}
            context.close()
        context = browser.new_context()
        page = context.new_page()
        # the victim's own login still works afterwards, as the victim
        _login(page, target, victim_token)
        assert REVIEWER in page.locator("header .who").inner_text()
        logins = [(e["actor"], e["status"]) for e in review.accounts.events(limit=50) if e["path"] == "/login"]
        assert (REVIEWER, 303) in logins and ("mallory", 303) not in logins
        assert sum(1 for actor, status in logins if status == 403) >= 3
        context.close()
