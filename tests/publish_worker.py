"""A publisher for concurrency and crash tests, run in threads or as its own process:
``python -m tests.publish_worker ROOT_OR_URL SERIES EPISODES SEED ROUNDS [TTL]``.

Each round publishes one of a few variants of an episode (other words, other quality-gate outcome:
a language moves between ``held/`` and public), so concurrent writers really replace each other's
tracks. Prints one JSON line per finished publish: ``{"episode", "version", "unchanged"}``.
``ROUNDS`` 0 means forever (until killed).
"""

from __future__ import annotations

import json
import random
import sys
from functools import lru_cache

from localise.config import QualityGate
from localise.model import Cue, Flag, Track
from localise.pipeline import LocalisedTrack

GATE = QualityGate(max_flagged_share=0.3)
SOURCE = {"name": "ep.srt", "sha256": "source"}
SIGNATURE = {"engine": "test", "model": "m"}


def _track(texts: list[str]) -> Track:
    return Track(cues=[Cue(i * 2000, i * 2000 + 1500, t, id=str(i + 1)) for i, t in enumerate(texts)], format="srt")


@lru_cache(maxsize=64)
def variant(n: int, cues: int = 6) -> tuple[LocalisedTrack, ...]:
    """Variant ``n``: en flagged (held by GATE) when n is odd, es flagged when n % 3 == 0."""
    from localise.quality.report import build_report

    out = []
    for lang, flagged in (("en", n % 2 == 1), ("es", n % 3 == 0)):
        texts = [f"{lang} line {i} of variant {n}" for i in range(cues)]
        source, target = _track(["源"] * cues), _track(texts)
        flags = [[Flag("glossary", "major", "term missing")] if flagged else [] for _ in range(cues)]
        report = build_report(source, target, flags, src_lang="zh", tgt_lang=lang)
        out.append(LocalisedTrack(source=source, lang=lang, track=target, report=report))
    return tuple(out)


def publish_variant(store, series: str, episode: str, n: int, **kwargs):  # type: ignore[no-untyped-def]
    from localise.storage import publish_episode

    return publish_episode(store, series, episode, list(variant(n)), source={**SOURCE, "variant": n},
                           signature=SIGNATURE, quality_gate=GATE, **kwargs)


def main(argv: list[str]) -> None:
    from localise.errors import PublishError
    from localise.storage import open_store

    url, series, episodes, seed, rounds = argv[:5]
    ttl = float(argv[5]) if len(argv) > 5 else 120.0
    store = open_store(url)
    rng = random.Random(int(seed))
    names = episodes.split(",")
    done = 0
    while int(rounds) == 0 or done < int(rounds):
        episode = rng.choice(names)
        try:
            result = publish_variant(store, series, episode, rng.randrange(6), lease_ttl=ttl)
        except PublishError as exc:  # busy too long: another round
            print(json.dumps({"episode": episode, "error": str(exc)}), flush=True)
            continue
        print(json.dumps({"episode": episode, "version": result.version, "unchanged": result.unchanged}), flush=True)
        done += 1


if __name__ == "__main__":
    main(sys.argv[1:])
