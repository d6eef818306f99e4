"""Names, language tags, roles and the login failure limit (issue 12), with property tests for
the names a request may use as series or episode."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localise.errors import ReviewError
from localise.review.access import Principal, ScopeError, check_language, is_safe_name, normalise_series
from localise.review.app.ratelimit import FailureLimiter


@given(st.text(max_size=60))
def test_a_safe_name_never_leaves_its_folder(name: str) -> None:
    if is_safe_name(name):
        assert "/" not in name and "\\" not in name and ".." not in name.split("/")
        assert not name.startswith(".") and name.strip() == name
        assert all(ord(c) >= 32 for c in name)


@pytest.mark.parametrize("name", ["dragon", "tingyu-teahouse", "第1集", "ep01", "s.2_b"])
def test_ordinary_names_are_safe(name: str) -> None:
    assert is_safe_name(name)


@pytest.mark.parametrize("name", ["", "..", "../x", "../../x", "a/b", "a\\b", ".hidden", "x\n", "a b", "_", "x" * 121])
def test_path_like_names_are_not(name: str) -> None:
    assert not is_safe_name(name)


@pytest.mark.parametrize("tag", ["en", "es", "pt-BR", "zh-Hant-TW", "sr-Latn", "es-419", "de-CH-1996"])
def test_language_tags(tag: str) -> None:
    assert check_language(tag) == tag


@pytest.mark.parametrize("tag", ["", "e", "english", "en/../x", "en_US\n", "x" * 40, "en-"])
def test_bad_language_tags(tag: str) -> None:
    with pytest.raises(ReviewError):
        check_language(tag)


def test_roles_and_scopes() -> None:
    rita = Principal("rita", "reviewer", frozenset({"dragon"}), "db:1")
    ada = Principal("ada", "admin", frozenset({"*"}), "db:2")
    rita.require("reviewer", "dragon")
    with pytest.raises(ScopeError, match="operator"):
        rita.require("operator", "dragon")
    with pytest.raises(ScopeError, match="tiger"):
        rita.require("reviewer", "tiger")
    ada.require("admin", "anything")
    assert rita.series_filter() == {"dragon"} and ada.series_filter() is None
    assert normalise_series(["b", "a", "b", " "]) == ["a", "b"] and normalise_series(["a", "*"]) == ["*"]


def test_failure_limiter_window(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("localise.review.app.ratelimit.time.monotonic", lambda: now[0])
    limiter = FailureLimiter(3, 60, max_clients=2)
    for _ in range(3):
        assert limiter.retry_after("a") == 0
        limiter.fail("a")
    assert limiter.retry_after("a") == 60
    assert limiter.retry_after("b") == 0  # per address
    now[0] += 30
    assert limiter.retry_after("a") == 30
    now[0] += 31
    assert limiter.retry_after("a") == 0  # the failures aged out
    for client in ("c", "d", "e"):  # bounded memory: the oldest addresses are forgotten
        limiter.fail(client)
    assert len(limiter._failures) == 2
    limiter.fail("d")
    limiter.succeed("d")
    assert "d" not in limiter._failures
