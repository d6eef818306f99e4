"""End to end, as a reviewer sees it: a real pipeline run (tiny offline model) published to a real
S3 server (SeaweedFS), its flagged lines ingested, a headless Chromium (Debian's, driven by
Playwright) logging in, editing one flagged line with the keyboard and approving another, then the
`apply-review` flow on a real Prefect server republishing — and the track in the bucket has the edit."""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
TOKEN = "reviewer-token-0123456789"
EDIT = "President Lin is here."

EPISODE = """1
00:00:01,000 --> 00:00:03,500
林总来了。

2
00:00:04,000 --> 00:00:06,500
我们走吧！

3
00:00:07,000 --> 00:00:09,500
你在这里干什么？
"""


class UvicornThread:
    """The review app served by uvicorn on 127.0.0.1 in a background thread, stopped on exit."""

    def __init__(self, app) -> None:
        import uvicorn

        from tests.integration.processes import free_port

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))
        # the thread runs in a copy of this context: Prefect's settings (the test server's API URL)
        # live in context variables, which a plain new thread would not see
        self.thread = threading.Thread(target=contextvars.copy_context().run, args=(self.server.run,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "UvicornThread":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def bucket_url(s3_server, monkeypatch: pytest.MonkeyPatch) -> str:
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    return f"s3://{s3_server.make_bucket('review')}/published"


def test_browser_review_edit_and_approve_republish(tmp_path: Path, tiny_model: Path, bucket_url: str,
                                                   prefect_server, browser) -> None:
    from flows.apply_review import apply_review
    from localise.io import parse_text, read_track
    from localise.pipeline import LocaliseOptions, localise_tracks
    from localise.review import ReviewStore
    from localise.review.app import create_app
    from localise.review.app.settings import ReviewSettings
    from localise.review.sync import ingest_published
    from localise.storage import open_store, publish_episode, read_manifest, sha256

    # a machine run: every line is flagged for review (confidence threshold 1.0), published to S3
    review = ReviewStore(f"sqlite:///{tmp_path / 'review.db'}")
    options = LocaliseOptions(src="zh", model=str(tiny_model), thresholds={"low_confidence": 1.0},
                              memory=review.memory.for_series("dragon"))
    results = localise_tracks([parse_text(EPISODE, name="ep01.srt")], ["en"], options=options)
    store = open_store(bucket_url)
    publish_episode(store, "dragon", "ep01", results, source={"name": "ep01.srt", "sha256": sha256(EPISODE.encode())},
                    signature=options.describe())
    ingest_published(review, store, "dragon", "ep01")
    flagged = review.items()
    assert [i.cue_index for i in flagged] == [0, 1, 2]
    machine_line_2 = flagged[1].machine_translation
    # a hostile line from another series, to check what the browser does with it
    review.ingest_report({"target_language": "en", "cues": [{
        "start_ms": 0, "end_ms": 2000, "source": "<img src=x onerror=\"window.__xss=1\">",
        "translation": "<script>window.__xss=1</script>", "flags": [{"code": "x", "severity": "minor", "reason": "<b>r</b>"}],
    }]}, series="xss", episode="e1")

    settings = ReviewSettings(db_url=review.url, tokens={TOKEN: "ann"}, glossary_dir=None)
    with UvicornThread(create_app(settings, store=review)) as server:
        page = browser.new_page()
        page.goto(f"{server.url}/queue")
        assert page.url.endswith("/login")
        page.fill("#token", TOKEN)
        page.click("#login")
        page.wait_for_url(f"{server.url}/queue")
        page.goto(f"{server.url}/queue?series=dragon")
        assert page.locator("li.item").count() == 3

        # edit the first flagged line with the keyboard: e, select all, type, Ctrl+Enter
        page.locator("li.item").first.focus()
        page.keyboard.press("e")
        page.keyboard.press("Control+a")
        page.keyboard.type(EDIT)
        with page.expect_navigation():
            page.keyboard.press("Control+Enter")
        if page.locator("button.save-anyway").count():  # the re-check found something: it is shown first
            assert page.locator(".check .flag").count() >= 1
            with page.expect_navigation():
                page.click("button.save-anyway")
        done = page.locator("#done")
        assert "edited" in done.inner_text() and EDIT in done.inner_text()

        # approve the next one: the queue focuses its first item; press a
        assert page.locator("li.item").count() == 2
        with page.expect_navigation():
            page.keyboard.press("a")
        assert "approved" in page.locator("#done").inner_text()
        assert page.locator("li.item").count() == 1

        # everything is shown as text: no script ran, the markup is visible as characters
        # a minor-only item needs no review: the queue shows it under its "minor or worse" filter
        page.goto(f"{server.url}/queue?series=xss&severity=minor")
        assert page.evaluate("window.__xss") is None
        item_text = page.locator("li.item").inner_text()
        assert "<script>window.__xss=1</script>" in item_text and "<b>r</b>" in item_text
        page.close()

    assert review.reviewed_lines("dragon", "ep01", "en") == {0: EDIT, 1: machine_line_2}
    summary = apply_review("dragon", ["ep01"], bucket_url, review.url)
    assert summary["episodes"][0]["status"] == "published"
    manifest = read_manifest(store, "dragon", "ep01")
    assert manifest["version"] == 2
    entry = manifest["languages"]["en"]
    published = read_track(store.read(f"dragon/ep01/{entry['track']}"))
    assert published.cues[0].text == EDIT
    assert published.cues[1].text == machine_line_2
    assert [(c.start_ms, c.end_ms) for c in published.cues] == [(1000, 3500), (4000, 6500), (7000, 9500)]
