"""The review app's security model through TestClient (issue 12): scoped tokens, server-side
sessions, CSRF and origin checks, login CSRF, body caps before parsing, 64-bit ids, the login rate
limit, the audit log, and the regressions of the failed probes (job parameters, ingest paths)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.review.app_client import ORIGIN, form_token, login, new_client
from tests.review.review_data import EPISODE, make_report

from localise.review import ReviewStore
from localise.review.app import create_app
from localise.review.app.settings import ReviewSettings

BOOT = "boot-admin-token-0123456789"


@pytest.fixture
def world(tmp_path: Path, store: ReviewStore):
    """The conftest store (series dragon) plus a second series, and tokens of every kind."""
    store.ingest_report(make_report(EPISODE), series="tiger", episode="ep01", track_version="1")
    acc = store.accounts
    tokens = {
        "reviewer": acc.add_token("rita", "reviewer", ["dragon"])[0],
        "other": acc.add_token("otto", "reviewer", ["tiger"])[0],
        "operator": acc.add_token("opal", "operator", ["dragon"])[0],
        "admin": acc.add_token("ada", "admin", ["*"])[0],
    }
    glossaries = tmp_path / "glossaries"
    glossaries.mkdir()
    settings = ReviewSettings(db_url=store.url, tokens={BOOT: "boot"}, glossary_dir=glossaries,
                              storage_url=str(tmp_path / "published"), login_attempts=5, max_body_bytes=4096,
                              max_upload_bytes=8192, series_sources={"dragon": str(tmp_path / "src" / "dragon")})
    app = create_app(settings, store=store)
    return app, store, tokens, settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def dragon_item(store: ReviewStore) -> int:
    return store.items(series="dragon")[0].id


def tiger_item(store: ReviewStore) -> int:
    return store.items(series="tiger")[0].id


# -- tokens -------------------------------------------------------------------------------------
def test_tokens_are_hashed_scoped_and_revocable(world) -> None:
    app, store, tokens, _ = world
    acc = store.accounts
    rows = {t.name: t for t in acc.tokens()}
    assert rows["rita"].series == ["dragon"] and rows["ada"].series == ["*"]
    with store.engine.connect() as conn:  # the secret itself is nowhere in the database
        dump = json.dumps([list(map(str, r)) for r in conn.exec_driver_sql("SELECT * FROM access_tokens")])
    for token in tokens.values():
        assert token.split("_", 2)[2] not in dump
    assert acc.verify(tokens["reviewer"]).name == "rita"
    assert acc.verify(tokens["reviewer"] + "x") is None
    assert acc.verify("lrt_000000000000_nothing") is None
    acc.revoke("rita")
    assert acc.verify(tokens["reviewer"]) is None
    new, info = acc.rotate("otto")
    assert acc.verify(tokens["other"]) is None and acc.verify(new).series == frozenset({"tiger"})
    with pytest.raises(Exception, match="past"):
        acc.add_token("x", "reviewer", ["dragon"], expires_at=datetime.now(timezone.utc) - timedelta(days=1))
    with pytest.raises(Exception, match="role"):
        acc.add_token("x", "root", ["dragon"])
    with pytest.raises(Exception, match="invalid series"):
        acc.add_token("x", "reviewer", ["../x"])


def test_expired_token_is_refused(world) -> None:
    app, store, _, _ = world
    token, info = store.accounts.add_token("eve", "admin", ["*"], expires_at=datetime.now(timezone.utc)
                                           + timedelta(seconds=60))
    client = new_client(app)
    assert client.get("/api/items", headers=bearer(token)).status_code == 200
    from localise.review.schema import AccessToken

    with store.sessions() as s, s.begin():
        s.get(AccessToken, info.id).expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    assert client.get("/api/items", headers=bearer(token)).status_code == 401


def test_reviewer_sees_and_decides_only_its_series(world) -> None:
    app, store, tokens, _ = world
    client = new_client(app)
    h = bearer(tokens["reviewer"])
    assert {i["series"] for i in client.get("/api/items", params={"state": ""}, headers=h).json()} == {"dragon"}
    assert client.get("/api/items", params={"series": "tiger"}, headers=h).status_code == 403
    assert client.get(f"/api/items/{tiger_item(store)}", headers=h).status_code == 404
    assert client.post(f"/api/items/{tiger_item(store)}/approve", headers=h).status_code == 404
    assert store.get(tiger_item(store)).state == "open"
    assert client.post(f"/api/items/{dragon_item(store)}/approve", headers=h).json()["reviewer"] == "rita"
    xliff = client.get("/api/xliff", params={"state": ""}, headers=h).text
    assert "dragon/ep01/en" in xliff and "tiger" not in xliff
    # an XLIFF file of another series is refused whole
    other = client.get("/api/xliff", params={"series": "tiger"}, headers=bearer(tokens["other"])).text
    response = client.post("/api/xliff", content=other.replace(">I am Lin.<", ">Changed.<").encode(), headers=h)
    assert response.status_code == 403 and "outside" in response.json()["detail"]
    # reviewers do not ingest; operators do not touch another series
    body = {"series": "dragon", "episode": "ep01"}
    assert client.post("/api/ingest", json=body, headers=h).status_code == 403
    assert client.post("/api/ingest", json={"series": "tiger", "episode": "ep01"},
                       headers=bearer(tokens["operator"])).status_code == 403


# -- jobs: what a request may name (failed probes of issue 12) ------------------------------------
@pytest.mark.parametrize("extra", [
    {"source": "/etc"}, {"destination": "/tmp/x"}, {"config": "/etc/passwd"}, {"model": "evil/model"},
    {"storage_url": "s3://other/x"}, {"parameters": {"max_concurrency": 99}}, {"unknown": 1},
])
def test_job_request_naming_locations_or_unknown_fields_is_422(world, extra) -> None:
    app, _, tokens, _ = world
    client = new_client(app)
    response = client.post("/api/jobs", json={"series": "dragon", **extra}, headers=bearer(tokens["admin"]))
    assert response.status_code == 422, response.text
    assert next(iter(extra)) in response.text


@pytest.mark.parametrize("body", [
    {"series": "../../etc"}, {"series": "dragon", "episodes": ["../x"]}, {"series": "dragon", "targets": ["en/../x"]},
    {"series": "dragon", "kind": "shell"}, {"series": "dragon", "episodes": []},
])
def test_job_request_with_bad_names_is_422(world, body) -> None:
    app, _, tokens, _ = world
    assert new_client(app).post("/api/jobs", json=body, headers=bearer(tokens["admin"])).status_code == 422


def test_job_roles(world) -> None:
    """Refusals happen before Prefect is asked anything (no PREFECT_API_URL is needed for them)."""
    app, _, tokens, _ = world
    client = new_client(app)
    assert client.post("/api/jobs", json={"series": "dragon"}, headers=bearer(tokens["reviewer"])).status_code == 403
    assert client.post("/api/jobs", json={"series": "dragon", "kind": "apply-review"},
                       headers=bearer(tokens["other"])).status_code == 403
    assert client.post("/api/jobs", json={"series": "tiger", "kind": "batch"},
                       headers=bearer(tokens["operator"])).status_code == 403
    # no configured source for tiger: refused before any run
    assert client.post("/api/jobs", json={"series": "tiger"}, headers=bearer(tokens["admin"])).status_code == 409


def test_ingest_refuses_paths_as_series(world, tmp_path: Path) -> None:
    app, store, tokens, settings = world
    (tmp_path / "secret.csv").write_text("zh,en\n林总,LEAKED\n", encoding="utf-8")
    client = new_client(app)
    for series in ("../secret", "../../x", "/etc/passwd", ".hidden", "a/b"):
        response = client.post("/api/ingest", json={"series": series, "episode": "ep01"}, headers=bearer(tokens["admin"]))
        assert response.status_code == 422, (series, response.text)
    # an item already stored under an unsafe series name never reaches the glossary folder's parent
    store.ingest_report(make_report(EPISODE), series="../secret", episode="ep01")
    assert app.state.service.glossary("../secret") is None
    item = store.items(series="../secret")[0]
    assert "LEAKED" not in client.get(f"/api/items/{item.id}", headers=bearer(tokens["admin"])).text


# -- ids and bodies ---------------------------------------------------------------------------------
@pytest.mark.parametrize("item_id", [2**70, 2**63, -1, 0])
def test_out_of_range_ids_are_404(world, item_id) -> None:
    app, _, tokens, _ = world
    client = new_client(app)
    h = bearer(tokens["admin"])
    assert client.get(f"/api/items/{item_id}", headers=h).status_code == 404
    assert client.post(f"/api/items/{item_id}/approve", headers=h).status_code == 404
    assert client.post(f"/api/items/{item_id}/edit", json={"text": "x"}, headers=h).status_code == 404
    login(client, tokens["admin"])
    assert client.post(f"/items/{item_id}/approve").status_code == 404
    assert client.get("/queue", params={"done": str(item_id)}).status_code == 200


def test_authentication_comes_before_the_body(world) -> None:
    app, _, tokens, _ = world
    client = new_client(app)
    response = client.post("/api/jobs", content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    big = b"x" * 100_000
    assert client.post("/api/xliff", content=big).status_code == 401
    h = {**bearer(tokens["admin"]), "Content-Type": "application/json"}
    assert client.post("/api/jobs", content=b"{not json", headers=h).status_code == 422
    assert client.post("/api/ingest", content=b"[" + b"1," * 5000 + b"1]", headers=h).status_code == 413
    # a body without Content-Length (chunked) is cut at the limit as it streams

    def chunks():
        for _ in range(100):
            yield b"a" * 1000

    assert client.post("/api/ingest", content=chunks(), headers=h).status_code == 413
    assert client.post("/api/xliff", content=b"<x/>" * 3000, headers=h).status_code == 413  # over 8 KiB uploads
    # pages: the same cap on forms
    login(client, tokens["admin"])
    assert client.post(f"/items/{1}/edit", data={"text": "y" * 10_000}).status_code == 413


def test_security_headers_and_no_store(world) -> None:
    app, _, tokens, _ = world
    client = new_client(app)
    for response in (client.get("/login"), client.get("/api/items", headers=bearer(tokens["admin"]))):
        assert response.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    login(client, tokens["admin"])
    assert client.get("/queue").headers["cache-control"] == "no-store"


# -- sessions ----------------------------------------------------------------------------------------
def _session_cookie(client: TestClient) -> str:
    return client.cookies.get("localise_session")


def test_session_is_random_server_side_and_ends_on_logout(world) -> None:
    app, store, tokens, _ = world
    client = new_client(app)
    login(client, tokens["reviewer"])
    cookie = _session_cookie(client)
    assert "rita" not in cookie and len(cookie) >= 40
    assert client.get("/queue", follow_redirects=False).status_code == 200
    assert client.post("/logout", follow_redirects=False).status_code == 303
    replay = new_client(app)
    replay.cookies.set("localise_session", cookie)
    assert replay.get("/queue", follow_redirects=False).headers["location"] == "/login"


@pytest.mark.parametrize("how", ["revoke", "rotate", "expire"])
def test_session_ends_with_its_token(world, how) -> None:
    app, store, tokens, _ = world
    client = new_client(app)
    login(client, tokens["reviewer"])
    assert client.get("/queue", follow_redirects=False).status_code == 200
    if how == "revoke":
        store.accounts.revoke("rita")
    elif how == "rotate":
        store.accounts.rotate("rita")
    else:
        from localise.review.schema import AccessToken

        with store.sessions() as s, s.begin():
            for row in s.query(AccessToken).filter_by(name="rita"):
                row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    assert client.get("/queue", follow_redirects=False).status_code == 303
    item = dragon_item(store)
    assert client.post(f"/items/{item}/approve", follow_redirects=False).status_code == 303
    assert store.get(item).state == "open"


def test_session_of_a_bootstrap_token_ends_when_it_is_rotated(world, store) -> None:
    app, _, _, settings = world
    client = new_client(app)
    login(client, BOOT)
    assert client.get("/queue", follow_redirects=False).status_code == 200
    settings.tokens = {"boot-admin-token-ROTATED-000": "boot"}  # the operator changed the variable
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_session_expires(world) -> None:
    app, store, tokens, settings = world
    client = new_client(app)
    login(client, tokens["reviewer"])
    from localise.review.schema import LoginSession

    with store.sessions() as s, s.begin():
        for row in s.query(LoginSession):
            row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_secure_cookies(world) -> None:
    app, _, tokens, settings = world
    https = TestClient(app, base_url="https://review.test", headers={"Origin": "https://review.test"})
    page = https.get("/login")
    assert "__Host-localise_login" in page.headers["set-cookie"] and "Secure" in page.headers["set-cookie"]
    response = https.post("/login", data={"token": tokens["reviewer"], "login_token": form_token(page.text, "login_token")},
                          follow_redirects=False)
    assert response.status_code == 303
    cookie = [c for c in response.headers.get_list("set-cookie") if "localise_session" in c][0]
    assert cookie.startswith("__Host-localise_session=")
    for flag in ("Secure", "HttpOnly", "SameSite=strict", "Path=/"):
        assert flag.lower() in cookie.lower()
    plain = new_client(app).get("/login").headers["set-cookie"]
    assert "secure" not in plain.lower()
    settings.secure_cookies = True  # behind a TLS proxy that speaks plain HTTP to the app
    assert "secure" in new_client(app).get("/login").headers["set-cookie"].lower()


# -- CSRF ------------------------------------------------------------------------------------------------
def test_forms_need_the_csrf_token_and_the_own_origin(world) -> None:
    app, store, tokens, _ = world
    client = new_client(app)
    csrf = login(client, tokens["reviewer"])
    del client.headers["X-CSRF-Token"]
    item = dragon_item(store)
    assert client.post(f"/items/{item}/approve").status_code == 403
    assert client.post(f"/items/{item}/approve", data={"csrf_token": "wrong"}).status_code == 403
    other = client.post(f"/items/{item}/approve", data={"csrf_token": csrf}, headers={"Origin": "http://127.0.0.1:9"})
    assert other.status_code == 403
    none = client.post(f"/items/{item}/approve", data={"csrf_token": csrf}, headers={"Origin": "null"})
    assert none.status_code == 403
    assert store.get(item).state == "open"
    client.headers.pop("Origin")
    assert client.post(f"/items/{item}/approve", data={"csrf_token": csrf}).status_code == 403  # neither header
    ok = client.post(f"/items/{item}/approve", data={"csrf_token": csrf}, headers={"Referer": f"{ORIGIN}/queue"},
                     follow_redirects=False)
    assert ok.status_code == 303 and store.get(item).state == "approved"
    # the token belongs to the session: another session's token does not pass
    second = new_client(app)
    login(second, tokens["admin"])
    second.headers["X-CSRF-Token"] = csrf
    assert second.post(f"/items/{item}/reject").status_code == 403


def test_login_needs_its_form_token_and_origin(world) -> None:
    app, _, tokens, _ = world
    client = new_client(app)
    assert client.post("/login", data={"token": tokens["reviewer"]}).status_code == 403
    page = client.get("/login")
    good = form_token(page.text, "login_token")
    attacker = new_client(app)  # a token fetched by someone else is bound to their cookie
    assert attacker.post("/login", data={"token": tokens["reviewer"], "login_token": good}).status_code == 403
    cross = client.post("/login", data={"token": tokens["reviewer"], "login_token": good},
                        headers={"Origin": "http://127.0.0.1:1"})
    assert cross.status_code == 403
    assert client.post("/login", data={"token": tokens["reviewer"], "login_token": good},
                       follow_redirects=False).status_code == 303


def test_login_rate_limit(world) -> None:
    app, store, tokens, settings = world
    client = new_client(app)
    for _ in range(settings.login_attempts):
        login(client, "wrong-token-0123456789", expect=401)
    page = client.get("/login")
    blocked = client.post("/login", data={"token": tokens["admin"], "login_token": form_token(page.text, "login_token")})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    rows = store.accounts.event_count()
    for _ in range(20):  # a blocked address writes nothing more, whatever it sends
        assert client.post("/login", data={"token": "x"}, headers={"Origin": "http://evil:1"}).status_code == 429
    assert store.accounts.event_count() == rows


def test_refused_login_posts_count_as_failures(world) -> None:
    app, store, tokens, settings = world
    client = new_client(app)
    for _ in range(settings.login_attempts):  # cross-origin posts, and posts without the form token
        assert client.post("/login", data={"token": tokens["admin"]}, headers={"Origin": "http://evil:1"}).status_code == 403
    assert client.post("/login", data={"token": tokens["admin"]}).status_code == 429


# -- audit -----------------------------------------------------------------------------------------------
def test_state_changes_are_audited_and_admins_read_them(world) -> None:
    app, store, tokens, _ = world
    client = new_client(app)
    item = dragon_item(store)
    client.post(f"/api/items/{item}/approve", headers=bearer(tokens["reviewer"]))
    client.post("/api/jobs", json={"series": "dragon", "source": "/etc"}, headers=bearer(tokens["operator"]))
    login(client, "wrong-token-0123456789", expect=401)
    login(client, tokens["reviewer"])
    client.post(f"/items/{item}/reject")
    assert client.get("/api/audit", headers=bearer(tokens["reviewer"])).status_code == 403
    assert client.get("/admin/audit").status_code == 403
    events = client.get("/api/audit", headers=bearer(tokens["admin"])).json()
    seen = [(e["actor"], e["method"], e["path"], e["status"]) for e in reversed(events)]
    assert ("rita", "POST", f"/api/items/{item}/approve", 200) in seen
    assert ("opal", "POST", "/api/jobs", 422) in seen
    assert (None, "POST", "/login", 401) in seen and ("rita", "POST", "/login", 303) in seen
    assert ("rita", "POST", f"/items/{item}/reject", 303) in seen
    approve = next(e for e in events if e["path"] == f"/api/items/{item}/approve")
    assert approve["detail"] == {"item": item, "series": "dragon", "state": "approved"} and approve["role"] == "reviewer"
    admin = new_client(app)
    login(admin, tokens["admin"])
    page = admin.get("/admin/audit")
    assert page.status_code == 200 and f"/items/{item}/reject" in page.text


def test_app_starts_with_stored_tokens_only(tmp_path: Path) -> None:
    store = ReviewStore(f"sqlite:///{tmp_path / 'r.db'}")
    token, _ = store.accounts.add_token("ada", "admin", ["*"])
    client = new_client(create_app(ReviewSettings(db_url=store.url, tokens={}), store=store))
    assert client.get("/api/items", headers=bearer(token)).json() == []


def test_job_parameters_come_from_the_servers_settings(world, tmp_path: Path) -> None:
    """What a job would run, without Prefect: locations from the settings, never from the request."""
    from fastapi import HTTPException

    from localise.review.app.jobs import JobRequest, _runs

    app, store, _, settings = world
    service = app.state.service
    source = tmp_path / "src" / "dragon"
    source.mkdir(parents=True)
    (source / "ep01.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\n你好\n", encoding="utf-8")
    name, runs = _runs(service, JobRequest(series="dragon", targets=["en", "pt-BR"]))
    assert name == settings.deployment
    assert runs == [{"source": str(source), "series": "dragon", "destination": settings.storage_url,
                     "targets": ["en", "pt-BR"]}]
    name, runs = _runs(service, JobRequest(series="dragon", kind="episode", episodes=["ep01"]))
    assert name == settings.episode_deployment and runs[0]["source"] == str(source / "ep01.srt")
    with pytest.raises(HTTPException) as missing:
        _runs(service, JobRequest(series="dragon", kind="episode", episodes=["ep99"]))
    assert missing.value.status_code == 404
    with pytest.raises(HTTPException) as nothing_reviewed:
        _runs(service, JobRequest(series="dragon", kind="apply-review"))
    assert nothing_reviewed.value.status_code == 409
    store.approve(dragon_item(store))
    name, runs = _runs(service, JobRequest(series="dragon", kind="apply-review"))
    assert name == settings.review_deployment
    assert runs == [{"series": "dragon", "episodes": ["ep01"], "storage_url": settings.storage_url,
                     "review_db_url": store.url}]
    # a database password never becomes a run parameter (callers see parameters; so does Prefect's UI)
    settings.db_url = "postgresql+psycopg://review:s3cret@db.internal/review"
    assert "review_db_url" not in _runs(service, JobRequest(series="dragon", kind="apply-review"))[1][0]
    settings.source_root, settings.series_sources = str(tmp_path / "root"), {}
    assert _runs(service, JobRequest(series="tiger"))[1][0]["source"] == str(tmp_path / "root" / "tiger")


def test_an_episode_job_refuses_an_episode_several_source_files_would_be(world, tmp_path: Path) -> None:
    """ep01.srt and ep01.vtt are both episode ep01: the run would publish one chosen by listing
    order over the other. The job names the files and starts nothing (409)."""
    from fastapi import HTTPException

    from localise.review.app.jobs import JobRequest, _runs

    app, _, _, settings = world
    source = tmp_path / "src" / "dragon"
    source.mkdir(parents=True)
    for name in ("ep01.srt", "ep01.vtt", "ep02.srt"):
        (source / name).write_text("1\n00:00:01,000 --> 00:00:02,000\n你好\n", encoding="utf-8")
    with pytest.raises(HTTPException) as clash:
        _runs(app.state.service, JobRequest(series="dragon", kind="episode", episodes=["ep02", "ep01"]))
    assert clash.value.status_code == 409 and "ep01.srt, ep01.vtt" in clash.value.detail
    name, runs = _runs(app.state.service, JobRequest(series="dragon", kind="episode", episodes=["ep02"]))
    assert [r["source"] for r in runs] == [str(source / "ep02.srt")]


def test_the_api_ignores_session_cookies(world) -> None:
    """A browser session never authorises the API (where no CSRF token is asked for)."""
    app, store, tokens, _ = world
    client = new_client(app)
    login(client, tokens["admin"])
    item = dragon_item(store)
    assert client.post(f"/api/items/{item}/approve").status_code == 401
    assert client.get("/api/items").status_code == 401
    assert store.get(item).state == "open"


def test_body_cap_is_exact(world) -> None:
    """A body is refused (413) exactly when it is over the limit, declared or streamed."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    app, _, tokens, cfg = world
    client = new_client(app)
    h = {**bearer(tokens["admin"]), "Content-Type": "application/json"}
    limit = cfg.max_body_bytes

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(size=st.integers(0, 2 * limit) | st.sampled_from([limit - 1, limit, limit + 1]), streamed=st.booleans())
    def check(size: int, streamed: bool) -> None:
        body = b" " * size
        content = iter([body[i:i + 1000] for i in range(0, size, 1000)]) if streamed else body
        status = client.post("/api/ingest", content=content, headers=h).status_code
        assert (status == 413) == (size > limit), (size, streamed, status)

    check()


def test_public_origins_behind_a_proxy(world, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALISE_REVIEW_PUBLIC_ORIGINS", "https://review.example.org/, https://alt.example.org")
    assert ReviewSettings().public_origins == ["https://review.example.org", "https://alt.example.org"]
    app, store, tokens, settings = world
    settings.public_origins = ["https://review.example.org"]
    client = new_client(app)
    login(client, tokens["reviewer"])
    item = dragon_item(store)
    proxied = client.post(f"/items/{item}/approve", headers={"Origin": "https://review.example.org"},
                          follow_redirects=False)
    assert proxied.status_code == 303 and store.get(item).state == "approved"
    assert client.post(f"/items/{item}/reject", headers={"Origin": "https://evil.example.org"}).status_code == 403


def test_a_job_request_never_carries_flow_parameters_that_move_work_or_text():
    """A caller naming where the work runs (chunk deployment, cache), where the source text goes
    (an LLM endpoint) or how it is repaired is refused by name, whatever its role."""
    from pydantic import ValidationError

    from localise.review.app.jobs import JobRequest

    for field, value in (("llm_base_url", "http://attacker.example/v1"), ("chunk_deployment", "evil/chunk"),
                         ("cache_url", "s3://attacker/cache"), ("refine", "flagged"), ("fan_out", True),
                         ("llm_api_key", "sk-x"), ("chunk_retries", 99), ("chunk_stale_after", 1),
                         ("cache_slice_units", 1), ("glossary_dir", "/etc"), ("glossary_optional", True)):
        with pytest.raises(ValidationError, match="never taken from a request"):
            JobRequest(series="dragon", **{field: value})
    assert JobRequest(series="dragon").series == "dragon"
