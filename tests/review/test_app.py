"""The review app through FastAPI's TestClient: access control, escaping, queue, edit checks, API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.review.app_client import login, new_client

from localise.review import ReviewStore
from localise.review.app import create_app
from localise.review.app.settings import ReviewSettings
from localise.errors import ConfigError, ReviewError

TOKEN = "ann-0123456789abcdef"


@pytest.fixture
def settings(tmp_path: Path, store: ReviewStore) -> ReviewSettings:
    glossaries = tmp_path / "glossaries"
    glossaries.mkdir()
    (glossaries / "dragon.csv").write_text("zh,en\n林总,President Lin\n", encoding="utf-8")
    return ReviewSettings(db_url=store.url, tokens={TOKEN: "ann"}, glossary_dir=glossaries)


@pytest.fixture
def client(settings: ReviewSettings, store: ReviewStore) -> TestClient:
    return new_client(create_app(settings, store=store))


@pytest.fixture
def logged_in(client: TestClient) -> TestClient:
    login(client, TOKEN)
    return client


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("method,path", [
    ("get", "/api/items"), ("get", "/api/items/1"), ("post", "/api/items/1/approve"), ("post", "/api/items/1/reject"),
    ("get", "/api/xliff"), ("post", "/api/xliff"), ("post", "/api/ingest"), ("post", "/api/jobs"),
    ("get", "/api/jobs/00000000-0000-0000-0000-000000000000"),
])
def test_api_without_token_is_401(client: TestClient, method: str, path: str) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert getattr(client, method)(path, headers=auth("wrong-token-0123456789")).status_code == 401
    assert getattr(client, method)(path, headers={"Authorization": TOKEN}).status_code == 401


def test_pages_need_a_login(client: TestClient, store: ReviewStore) -> None:
    item = store.items()[0]
    assert client.get("/queue", follow_redirects=False).headers["location"] == "/login"
    assert client.post(f"/items/{item.id}/approve", follow_redirects=False).status_code == 303
    assert store.get(item.id).state == "open"
    login(client, "nope", expect=401)
    client.cookies.set("localise_session", "forged-session-id")
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_app_refuses_to_start_without_good_tokens(store: ReviewStore) -> None:
    with pytest.raises(ConfigError, match="no reviewer tokens"):
        create_app(ReviewSettings(db_url=store.url, tokens={}), store=store)
    with pytest.raises(ConfigError, match="shorter"):
        create_app(ReviewSettings(db_url=store.url, tokens="bob:short"), store=store)


def test_queue_shows_context_flags_glossary_and_escapes_script(logged_in: TestClient) -> None:
    page = logged_in.get("/queue").text
    assert "<script>alert(1)</script>" not in page
    assert "He &lt;script&gt;alert(1)&lt;/script&gt; came" in page
    assert "&lt;i&gt;再见&lt;/i&gt;" in page
    assert "reason for glossary" in page and "reason for reading-speed" in page
    assert "President Lin" in page  # the glossary term of 林总 in cue 2
    assert "你好。" in page  # the previous cue as context
    assert page.count('<script src="/static/review.js"></script>') == 1
    assert "script-src 'self'" in logged_in.get("/queue").headers["content-security-policy"]


def test_queue_filters_by_flag(logged_in: TestClient) -> None:
    page = logged_in.get("/queue", params={"flag": "low-confidence"}).text
    assert page.count('class="item"') == 1 and "再见" in page


def test_edit_is_checked_before_saving(logged_in: TestClient, store: ReviewStore) -> None:
    item = store.items()[0]  # 我是林总。 ; the glossary wants "President Lin"
    page = logged_in.post(f"/items/{item.id}/edit", data={"text": "I am the boss."})
    assert page.status_code == 200
    assert "Check result for your edit" in page.text and "glossary" in page.text
    assert store.get(item.id).state == "open"  # not saved yet
    saved = logged_in.post(f"/items/{item.id}/edit", data={"text": "I am the boss.", "confirm": "yes"})
    assert saved.status_code == 200 and "Saved cue 2" in saved.text
    assert store.get(item.id).state == "edited"
    assert [f["code"] for f in store.get(item.id).check_flags] == ["glossary"]


def test_clean_edit_saves_and_shows_the_check(logged_in: TestClient, store: ReviewStore) -> None:
    item = store.items()[0]
    page = logged_in.post(f"/items/{item.id}/edit", data={"text": "I am President Lin."})
    assert "Check passed" in page.text
    edited = store.get(item.id)
    assert (edited.state, edited.text, edited.reviewer) == ("edited", "I am President Lin.", "ann")
    live = logged_in.post(f"/items/{item.id}/check", data={"text": "I am the boss."}).json()
    assert [f["code"] for f in live["check"]] == ["glossary"]


def test_approve_and_reject_from_the_page(logged_in: TestClient, store: ReviewStore) -> None:
    first, second, _ = store.items()
    logged_in.post(f"/items/{first.id}/approve", data={"flag": "glossary"})
    logged_in.post(f"/items/{second.id}/reject")
    assert store.get(first.id).state == "approved" and store.get(second.id).state == "rejected"
    assert [i.cue_index for i in store.items()] == [4]


def test_api_items_and_edit(client: TestClient, store: ReviewStore) -> None:
    items = client.get("/api/items", headers=auth()).json()
    assert [i["cue_index"] for i in items] == [1, 2, 4]
    detail = client.get(f"/api/items/{items[0]['id']}", headers=auth()).json()
    assert detail["glossary"] == [{"term": "林总", "target": "President Lin"}]
    assert detail["before"][0]["source"] == "你好。"
    refused = client.post(f"/api/items/{items[0]['id']}/edit", json={"text": "I am the boss."}, headers=auth()).json()
    assert refused["saved"] is False and refused["check"][0]["code"] == "glossary"
    ok = client.post(f"/api/items/{items[0]['id']}/edit", json={"text": "I am President Lin."}, headers=auth()).json()
    assert ok["saved"] is True and ok["item"]["state"] == "edited"
    assert client.post(f"/api/items/{items[1]['id']}/approve", headers=auth()).json()["state"] == "approved"
    assert client.get("/api/items/9999", headers=auth()).status_code == 404
    # the next similar line gets the reviewed one as a translation-memory suggestion
    detail = client.get(f"/api/items/{items[2]['id']}", headers=auth()).json()
    assert all(m["score"] >= 0.6 for m in detail["memory"])


def test_api_xliff_round_trip(client: TestClient, store: ReviewStore) -> None:
    text = client.get("/api/xliff", params={"version": "1.2"}, headers=auth()).text
    edited = text.replace(">I am Lin.<", ">I am President Lin.<")
    assert client.post("/api/xliff", content=edited.encode(), headers=auth()).json() == {"edited": 1, "approved": 0}
    evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    response = client.post("/api/xliff", content=evil.encode(), headers=auth())
    assert response.status_code == 400 and "refused" in response.json()["detail"]


def test_api_xliff_refuses_huge_files_and_targets(client: TestClient, store: ReviewStore) -> None:
    """Issue 12 probe: a 50 MB target used to be imported (and the queue page grew to 157 MB)."""
    text = client.get("/api/xliff", headers=auth()).text
    before = [(i.id, i.state, i.final_text) for i in store.items(state=None)]
    huge = text.replace(">I am Lin.<", ">" + "x" * (50 * 1024 * 1024) + "<")
    assert client.post("/api/xliff", content=huge.encode(), headers=auth()).status_code == 413
    long = text.replace(">I am Lin.<", ">" + "y" * 5000 + "<")
    response = client.post("/api/xliff", content=long.encode(), headers=auth())
    assert response.status_code == 400 and "at most 2000" in response.json()["detail"]
    french = text.replace('trgLang="en"', 'trgLang="fr"').replace(">I am Lin.<", ">Je suis Lin.<")
    response = client.post("/api/xliff", content=french.encode(), headers=auth())
    assert response.status_code == 400 and "trgLang is 'fr'" in response.json()["detail"]
    assert [(i.id, i.state, i.final_text) for i in store.items(state=None)] == before


def test_an_approval_returns_to_the_same_filtered_queue_including_severity() -> None:
    from localise.review.app.pages import _form_filters

    assert _form_filters(series="s", severity="minor")["severity"] == "minor"
    assert _form_filters(severity="bogus")["severity"] == ""


def test_an_edit_longer_than_a_cue_may_be_is_never_saved(logged_in: TestClient, store: ReviewStore) -> None:
    """The page form took a 1 MB line (the JSON API stopped at 10,000 characters), which the
    readers then refuse in the republished track. Every way in now stops at the same bound."""
    from localise.review.store import MAX_EDIT_CHARS

    item = store.items()[0]
    huge = "word " * (MAX_EDIT_CHARS // 5 + 1)
    page = logged_in.post(f"/items/{item.id}/edit", data={"text": huge, "confirm": "yes"})
    assert page.status_code == 200 and "too-long" in page.text
    live = logged_in.post(f"/items/{item.id}/check", data={"text": huge}).json()
    assert [f["code"] for f in live["check"]] == ["too-long"]
    api = logged_in.post(f"/api/items/{item.id}/edit", json={"text": huge, "force": True}, headers=auth())
    assert api.status_code == 422
    with pytest.raises(ReviewError):
        store.edit(item.id, huge, reviewer="ann")
    assert store.get(item.id).state == "open"
