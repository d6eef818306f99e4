"""Synthetic, deterministic workloads: Chinese micro-drama subtitle tracks of realistic shape.

Why synthetic: benchmarks must give the same inputs on every machine and every run, with no
download and no licence question. The lines are built from a fixed phrase table with a seeded
``random.Random``, so ``episode_srt(3)`` is the same bytes everywhere. Shape follows the series
we localise: 1–3 minute episodes of about 40 cues, 2–30 characters per line, some sentences that
run over two cues (so units merge), some two-speaker cues (so units split), a little markup, and
the names a series glossary would hold.

Workloads (sizes are the issue's): one episode (~40 cues), one series (80 episodes), one
20,000-cue file.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

EPISODE_CUES = 40
SERIES_EPISODES = 80
BIG_TRACK_CUES = 20_000
SEED = 20261126

# Names and terms a series glossary would hold (zh -> en).
GLOSSARY_TERMS: dict[str, str] = {
    "林总": "President Lin",
    "苏晚晴": "Su Wanqing",
    "顾家": "the Gu family",
    "沈少": "Young Master Shen",
    "陆氏集团": "Lu Group",
    "白月光": "first love",
}

_NAMES = ["林总", "苏晚晴", "沈少", "妈", "爸", "老公", "姐姐", "小王", "张秘书", "顾先生"]
_SUBJECTS = ["我", "你", "他", "她", "我们", "你们", "他们", "这个女人", "那个男人", "顾家的人", "陆氏集团"]
_CLAUSES = [
    "根本不配进我们家的门",
    "早就知道你会来",
    "今天必须给我一个交代",
    "不会再相信你了",
    "把合同签了",
    "是我的白月光",
    "三年前就已经死了",
    "想要回我的孩子",
    "从来没有爱过你",
    "马上给我滚出去",
    "才是真正的千金",
    "一定会后悔的",
    "已经替你还清了所有的债",
    "在医院等你",
    "不知道发生了什么",
    "要和你离婚",
    "被人陷害了",
    "终于回来了",
    "怎么可能是她",
    "等这一天等了很久",
]
_ADVERBS = ["", "", "", "", "", "今天", "现在", "昨晚", "当着所有人的面", "在公司", "这一次", "其实", "三天之内", "无论如何", "明明", "居然"]
_SHORT = ["什么？", "不可能！", "你说什么？", "滚！", "对不起。", "谢谢你。", "是你？", "等一下！", "好。", "为什么？"]
_ENDINGS = ["。", "！", "？", "……"]

# Words for a synthetic English "translation" (used where a target track is needed without a model).
_EN_WORDS = (
    "you never loved me I knew you would come back tonight the contract is signed "
    "she is the real heiress they framed me wait for me at the hospital why President Lin"
).split()


@dataclass(frozen=True)
class SyntheticCue:
    start_ms: int
    end_ms: int
    text: str


def _clause(rng: random.Random) -> str:
    return f"{rng.choice(_SUBJECTS)}{rng.choice(_ADVERBS)}{rng.choice(_CLAUSES)}"


def _line(rng: random.Random) -> str:
    """One spoken sentence without final punctuation."""
    roll = rng.random()
    if roll < 0.3:
        return f"{rng.choice(_NAMES)}，{_clause(rng)}"
    if roll < 0.85:
        return _clause(rng)
    return f"{_clause(rng)}，{_clause(rng)}"


def _cue_texts(rng: random.Random, n: int) -> list[str]:
    """``n`` cue texts: plain lines, short exclamations, sentences split over two cues,
    two-speaker cues and a little italic markup, in the proportions of real episodes."""
    texts: list[str] = []
    while len(texts) < n:
        roll = rng.random()
        if roll < 0.15:
            texts.append(rng.choice(_SHORT))
        elif roll < 0.25 and len(texts) + 2 <= n:
            # A sentence that runs over two cues: the first has no final punctuation.
            texts.append(_clause(rng))
            texts.append(f"{_clause(rng)}{rng.choice(_ENDINGS)}")
        elif roll < 0.33:
            texts.append(f"-{rng.choice(_SHORT)}\n-{_line(rng)}{rng.choice(_ENDINGS)}")
        elif roll < 0.37:
            texts.append(f"<i>{_line(rng)}{rng.choice(_ENDINGS)}</i>")
        else:
            texts.append(f"{_line(rng)}{rng.choice(_ENDINGS)}")
    return texts[:n]


def synthetic_cues(n: int, seed: int) -> list[SyntheticCue]:
    """``n`` cues with reading-speed durations and short gaps (some long, so merging stops)."""
    rng = random.Random(seed)
    cues: list[SyntheticCue] = []
    t = rng.randint(500, 3000)
    for text in _cue_texts(rng, n):
        chars = len(text.replace("\n", ""))
        duration = min(7000, 900 + chars * 160 + rng.randint(0, 400))
        cues.append(SyntheticCue(t, t + duration, text))
        t += duration + (rng.randint(80, 600) if rng.random() < 0.8 else rng.randint(1600, 4000))
    return cues


def _ts(ms: int, sep: str = ",") -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(cues: list[SyntheticCue]) -> str:
    """SRT text of the cues (UTF-8 friendly, ``\\n`` line ends)."""
    blocks = [f"{i}\n{_ts(c.start_ms)} --> {_ts(c.end_ms)}\n{c.text}\n" for i, c in enumerate(cues, 1)]
    return "\n".join(blocks)


def episode_srt(episode: int, cues: int = EPISODE_CUES, *, seed: int = SEED) -> str:
    """Episode ``episode`` (1-based) of the synthetic series, as SRT text."""
    return to_srt(synthetic_cues(cues, seed * 1000 + episode))


def series_srt(episodes: int = SERIES_EPISODES, cues: int = EPISODE_CUES, *, seed: int = SEED) -> list[tuple[str, str]]:
    """``(file name, SRT text)`` for every episode of a synthetic series."""
    return [(f"ep{e:03d}.zh.srt", episode_srt(e, cues, seed=seed)) for e in range(1, episodes + 1)]


def big_track_srt(cues: int = BIG_TRACK_CUES, *, seed: int = SEED) -> str:
    """One long track (20,000 cues by default): the parse/check/render stress input."""
    return to_srt(synthetic_cues(cues, seed + 7))


def english_texts(n: int, *, seed: int = SEED) -> list[str]:
    """``n`` deterministic English-looking cue texts (a stand-in target where no model runs)."""
    rng = random.Random(seed + 11)
    out = []
    for _ in range(n):
        words = [rng.choice(_EN_WORDS) for _ in range(rng.randint(2, 9))]
        out.append(" ".join(words).capitalize() + rng.choice([".", "!", "?"]))
    return out


def glossary_csv() -> str:
    """A series glossary (header ``zh,en``) covering the names the lines use."""
    rows = ["zh,en"] + [f"{zh},{en}" for zh, en in GLOSSARY_TERMS.items()]
    return "\n".join(rows) + "\n"


def write_series(folder: str | Path, episodes: int = SERIES_EPISODES, cues: int = EPISODE_CUES) -> list[Path]:
    """Write the series as UTF-8 SRT files into ``folder`` (the flow's input); returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in series_srt(episodes, cues):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
