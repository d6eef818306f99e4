"""The authorization matrix of issue 12, against the running app: every route of the review app x
{no token, expired, revoked, other series, reviewer, operator, admin}, over HTTP to uvicorn on a
free loopback port, with a real Prefect server behind the jobs API (its deployments registered
under names of this test's own, never served: the runs the matrix creates stay scheduled and are
deleted at the end) and an episode published to a local folder behind ingest.

Pages are driven as a browser does (login form token, session cookie, CSRF field, Origin); the
expired and revoked rows log in while their token is good and lose it afterwards."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

BOOT = "authz-bootstrap-token-0123456789"
WHO = ("none", "expired", "revoked", "other", "reviewer", "operator", "admin")
ZH = "1\n00:00:01,000 --> 00:00:03,000\n林总来了。\n\n2\n00:00:04,000 --> 00:00:06,000\n我们走吧！\n"
ROLE_RANK = {"reviewer": 0, "operator": 1, "admin": 2}
ROLES = {"other": "reviewer", "reviewer": "reviewer", "operator": "operator", "admin": "admin"}


def _publish(storage: Path, model: Path) -> None:
    """One published episode (dragon/ep01, en): a real pipeline run (tiny offline model) whose
    every line is flagged (confidence threshold 1.0)."""
    from localise.io import parse_text
    from localise.pipeline import LocaliseOptions, localise_tracks
    from localise.storage import open_store, publish_episode, sha256

    options = LocaliseOptions(src="zh", model=str(model), thresholds={"low_confidence": 1.0})
    results = localise_tracks([parse_text(ZH, name="ep01.srt")], ["en"], options=options)
    publish_episode(open_store(str(storage)), "dragon", "ep01", results,
                    source={"name": "ep01.srt", "sha256": sha256(ZH.encode())}, signature=options.describe())


async def _register(names: dict[str, str]) -> dict[str, Any]:
    """The three job deployments under this test's names (registered, not served)."""
    from flows.apply_review import apply_review
    from flows.localise_batch import localise_batch
    from flows.localise_episode import localise_episode

    ids = {}
    for key, flow in (("batch", localise_batch), ("episode", localise_episode), ("review", apply_review)):
        deployment = await flow.ato_deployment(name=names[key].split("/", 1)[1], tags=["authz-test"])
        ids[key] = await deployment.aapply()
    return ids


async def _runs(deployment_ids: dict[str, Any]) -> dict[str, list[Any]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    out = {}
    async with get_client() as client:
        for key, dep_id in deployment_ids.items():
            out[key] = await client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[dep_id])))
    return out


async def _delete_runs(deployment_ids: dict[str, Any]) -> None:
    from prefect.client.orchestration import get_client

    runs = await _runs(deployment_ids)
    async with get_client() as client:
        for flow_runs in runs.values():
            for run in flow_runs:
                await client.delete_flow_run(run.id)
        for dep_id in deployment_ids.values():
            await client.delete_deployment(dep_id)


def _expected(route: dict[str, Any], who: str) -> int:
    """The status a caller gets: the route's success code, or why not."""
    if route["public"]:
        return route["ok"] if route.get("login_ok", {}).get(who, True) else route["denied"]
    if who in ("none", "expired", "revoked"):
        return 401 if route["api"] else 303
    if ROLE_RANK[ROLES[who]] < ROLE_RANK[route["role"]]:
        return 403
    if who == "other" and route.get("scoped"):
        return route["scoped"]
    return route["ok"]


def test_authorization_matrix(tmp_path: Path, tiny_model: Path, prefect_server) -> None:
    from tests.integration.test_review_browser import UvicornThread

    from localise.review import ReviewStore
    from localise.review.app import create_app
    from localise.review.app.settings import ReviewSettings
    from localise.review.sync import ingest_published

    storage = tmp_path / "published"
    _publish(storage, tiny_model)
    source = tmp_path / "incoming" / "dragon"
    source.mkdir(parents=True)
    (source / "ep01.srt").write_text(ZH, encoding="utf-8")
    review = ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")
    from localise.storage import open_store

    ingest_published(review, open_store(str(storage)), "dragon", "ep01")
    item = review.items(series="dragon")[0].id
    tag = uuid.uuid4().hex[:8]
    names = {"batch": f"localise-batch/authz-{tag}", "episode": f"localise-episode/authz-{tag}",
             "review": f"apply-review/authz-{tag}"}
    deployment_ids = asyncio.run(_register(names))

    acc = review.accounts
    tokens = {"reviewer": acc.add_token("rita", "reviewer", ["dragon"])[0],
              "other": acc.add_token("otto", "reviewer", ["tiger"])[0],
              "operator": acc.add_token("opal", "operator", ["dragon"])[0],
              "admin": acc.add_token("ada", "admin", ["*"])[0],
              "expired": acc.add_token("eve", "admin", ["*"], expires_at=datetime.now(timezone.utc) + timedelta(hours=1))[0],
              "revoked": acc.add_token("rob", "admin", ["*"])[0],
              "none": "not-a-token-0123456789"}
    settings = ReviewSettings(db_url=review.url, tokens={BOOT: "boot"}, glossary_dir=None, storage_url=str(storage),
                              series_sources={"dragon": str(source)}, deployment=names["batch"],
                              episode_deployment=names["episode"], review_deployment=names["review"])
    try:
        with UvicornThread(create_app(settings, store=review)) as server:
            http = httpx.Client(base_url=server.url, follow_redirects=False, timeout=60)
            admin = {"Authorization": f"Bearer {tokens['admin']}"}
            xliff = http.get("/api/xliff", params={"series": "dragon", "state": ""}, headers=admin).text
            job = http.post("/api/jobs", json={"series": "dragon"}, headers=admin)
            assert job.status_code == 201, job.text
            job_id = job.json()["id"]

            # browser sessions for every kind of caller (expired and revoked lose their token after login)
            sessions: dict[str, httpx.Client] = {}
            for who in WHO:
                client = httpx.Client(base_url=server.url, follow_redirects=False, timeout=60,
                                      headers={"Origin": server.url})
                if who != "none":
                    page = client.get("/login").text
                    login_token = re.search(r'name="login_token" value="([^"]+)"', page).group(1)
                    assert client.post("/login", data={"token": tokens[who], "login_token": login_token}).status_code == 303
                sessions[who] = client
            csrf = {who: (re.search(r'name="csrf_token" value="([^"]+)"', c.get("/queue").text) or [None, ""])[1]
                    for who, c in sessions.items() if who != "none"}
            csrf["none"] = ""
            acc.revoke("rob")
            from localise.review.schema import AccessToken

            with review.sessions() as s, s.begin():
                s.query(AccessToken).filter_by(name="eve").one().expires_at = datetime.now(timezone.utc) - timedelta(1)

            api = dict(public=False, api=True)
            page = dict(public=False, api=False)
            routes = [
                dict(api, method="GET", path="/api/items?series=dragon", role="reviewer", ok=200, scoped=403),
                dict(api, method="GET", path=f"/api/items/{item}", role="reviewer", ok=200, scoped=404),
                dict(api, method="POST", path=f"/api/items/{item}/approve", role="reviewer", ok=200, scoped=404),
                dict(api, method="POST", path=f"/api/items/{item}/reject", role="reviewer", ok=200, scoped=404),
                dict(api, method="POST", path=f"/api/items/{item}/edit", json={"text": "Lin is here.", "force": True},
                     role="reviewer", ok=200, scoped=404),
                dict(api, method="GET", path="/api/xliff?series=dragon&state=", role="reviewer", ok=200, scoped=403),
                dict(api, method="POST", path="/api/xliff", content=xliff.encode(), role="reviewer", ok=200, scoped=403),
                dict(api, method="POST", path="/api/ingest", json={"series": "dragon", "episode": "ep01"},
                     role="operator", ok=200, scoped=403),
                dict(api, method="POST", path="/api/jobs", json={"series": "dragon", "kind": "apply-review",
                                                                 "episodes": ["ep01"]},
                     role="reviewer", ok=201, scoped=403),
                dict(api, method="POST", path="/api/jobs", json={"series": "dragon"}, role="operator", ok=201, scoped=403),
                dict(api, method="POST", path="/api/jobs", json={"series": "dragon", "kind": "episode",
                                                                 "episodes": ["ep01"], "targets": ["en"]},
                     role="operator", ok=201, scoped=403),
                dict(api, method="GET", path=f"/api/jobs/{job_id}", role="reviewer", ok=200, scoped=404),
                dict(api, method="GET", path="/api/audit", role="admin", ok=200),
                dict(page, method="GET", path="/queue", role="reviewer", ok=200),
                dict(page, method="POST", path=f"/items/{item}/approve", role="reviewer", ok=303, scoped=404, form={}),
                dict(page, method="POST", path=f"/items/{item}/reject", role="reviewer", ok=303, scoped=404, form={}),
                dict(page, method="POST", path=f"/items/{item}/edit", role="reviewer", ok=303, scoped=404,
                     form={"text": "Lin is here.", "confirm": "yes"}),
                dict(page, method="POST", path=f"/items/{item}/check", role="reviewer", ok=200, scoped=404,
                     form={"text": "Lin is here."}),
                dict(page, method="GET", path="/admin/audit", role="admin", ok=200),
                dict(public=True, api=False, method="GET", path="/login", ok=200),
                dict(public=True, api=False, method="GET", path="/", ok=303),
            ]
            results: dict[tuple[str, str, str], tuple[int, int]] = {}
            for route in routes:
                for who in WHO:
                    if route["api"]:
                        response = http.request(route["method"], route["path"], json=route.get("json"),
                                                content=route.get("content"),
                                                headers={"Authorization": f"Bearer {tokens[who]}"})
                    else:
                        data = {**route["form"], "csrf_token": csrf[who]} if "form" in route else None
                        response = sessions[who].request(route["method"], route["path"], data=data)
                    results[(route["method"], route["path"], who)] = (response.status_code, _expected(route, who))
            wrong = {k: v for k, v in results.items() if v[0] != v[1]}
            assert not wrong, "\n".join(f"{m} {p} as {w}: got {got}, expected {exp}"
                                        for (m, p, w), (got, exp) in wrong.items())
            # what the other series' reviewer saw on its queue page: nothing of dragon
            source_line = review.get(item).source
            assert source_line not in sessions["other"].get("/queue?state=").text
            assert source_line in sessions["admin"].get("/queue?state=").text

            # logout ends each live session (and is refused for the dead ones)
            for who in WHO:
                response = sessions[who].post("/logout", data={"csrf_token": csrf[who]})
                assert response.status_code == 303 and response.headers["location"] == "/login", who
                assert sessions[who].get("/queue").status_code == 303, who

            # refused job requests created no run: only the allowed cells did
            before = asyncio.run(_runs(deployment_ids))
            for body in ({"series": "dragon", "source": str(tmp_path)}, {"series": "dragon", "destination": "/tmp/x"},
                         {"series": "dragon", "config": "/etc/passwd"}, {"series": "dragon", "bogus": 1}):
                assert http.post("/api/jobs", json=body, headers=admin).status_code == 422
            after = asyncio.run(_runs(deployment_ids))
            assert {k: len(v) for k, v in after.items()} == {k: len(v) for k, v in before.items()}
            allowed = {"batch": 1 + sum(_expected(routes[9], w) == 201 for w in WHO),
                       "episode": sum(_expected(routes[10], w) == 201 for w in WHO),
                       "review": sum(_expected(routes[8], w) == 201 for w in WHO)}
            assert {k: len(v) for k, v in after.items()} == allowed == {"batch": 3, "episode": 2, "review": 3}
            for run in after["batch"]:
                assert run.parameters["source"] == str(source) and run.parameters["destination"] == str(storage)
            for run in after["episode"]:
                assert run.parameters["source"] == str(source / "ep01.srt")

            # every state-changing call of a known caller is in the audit log
            events = http.get("/api/audit", params={"limit": 1000}, headers=admin).json()
            approvals = {e["actor"] for e in events if e["path"] == f"/api/items/{item}/approve" and e["status"] == 200}
            assert approvals == {"rita", "opal", "ada"}
            refused = {e["actor"] for e in events if e["path"] == f"/api/items/{item}/approve" and e["status"] == 404}
            assert refused == {"otto"}
    finally:
        asyncio.run(_delete_runs(deployment_ids))
