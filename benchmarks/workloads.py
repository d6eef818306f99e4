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

# Each phrase with the English a professional subtitler might write for it: the Chinese side is
# what the tracks hold; the English side makes a *translated* target of the same shape, so that
# checks can be timed on the input they normally see (a translation), not only on noise.
_NAMES = [("林总", "President Lin"), ("苏晚晴", "Su Wanqing"), ("沈少", "Young Master Shen"), ("妈", "Mom"),
          ("爸", "Dad"), ("老公", "Honey"), ("姐姐", "Sis"), ("小王", "Xiao Wang"), ("张秘书", "Secretary Zhang"),
          ("顾先生", "Mr. Gu")]
_SUBJECTS = [("我", "I"), ("你", "you"), ("他", "he"), ("她", "she"), ("我们", "we"), ("你们", "you"),
             ("他们", "they"), ("这个女人", "this woman"), ("那个男人", "that man"), ("顾家的人", "the Gu family"),
             ("陆氏集团", "Lu Group")]
_CLAUSES = [
    ("根本不配进我们家的门", "will never be fit to enter our family's door"),
    ("早就知道你会来", "knew long ago that you would come"),
    ("今天必须给我一个交代", "must give me an explanation today"),
    ("不会再相信你了", "will never trust you again"),
    ("把合同签了", "signed the contract"),
    ("是我的白月光", "remained my first love"),
    ("三年前就已经死了", "died three years ago"),
    ("想要回我的孩子", "wanted my child back"),
    ("从来没有爱过你", "never loved you"),
    ("马上给我滚出去", "must get out right now"),
    ("才是真正的千金", "turned out to be the real heiress"),
    ("一定会后悔的", "will surely regret it"),
    ("已经替你还清了所有的债", "already paid off all your debts"),
    ("在医院等你", "waited for you at the hospital"),
    ("不知道发生了什么", "did not know what happened"),
    ("要和你离婚", "will divorce you"),
    ("被人陷害了", "got framed"),
    ("终于回来了", "finally came back"),
    ("怎么可能是她", "could never be her"),
    ("等这一天等了很久", "waited a long time for this day"),
]
_ADVERBS = [("", ""), ("", ""), ("", ""), ("", ""), ("", ""), ("今天", "today"), ("现在", "now"),
            ("昨晚", "last night"), ("当着所有人的面", "in front of everyone"), ("在公司", "at the company"),
            ("这一次", "this time"), ("其实", "actually"), ("三天之内", "within three days"),
            ("无论如何", "no matter what"), ("明明", "clearly"), ("居然", "of all things")]
_SHORT = [("什么？", "What?"), ("不可能！", "Impossible!"), ("你说什么？", "What did you say?"), ("滚！", "Get out!"),
          ("对不起。", "I'm sorry."), ("谢谢你。", "Thank you."), ("是你？", "It's you?"), ("等一下！", "Wait!"),
          ("好。", "Okay."), ("为什么？", "Why?")]
_ENDINGS = [("。", "."), ("！", "!"), ("？", "?"), ("……", "...")]

# Words for a synthetic English "translation" (used where a target track is needed without a model).
_EN_WORDS = (
    "you never loved me I knew you would come back tonight the contract is signed "
    "she is the real heiress they framed me wait for me at the hospital why President Lin"
).split()

Pair = tuple[str, str]


@dataclass(frozen=True)
class SyntheticCue:
    start_ms: int
    end_ms: int
    text: str
    english: str = ""  # the same cue as a professional English subtitle would read


def _clause(rng: random.Random) -> Pair:
    (zh_s, en_s), (zh_a, en_a), (zh_c, en_c) = rng.choice(_SUBJECTS), rng.choice(_ADVERBS), rng.choice(_CLAUSES)
    return f"{zh_s}{zh_a}{zh_c}", f"{en_s} {en_c}" + (f" {en_a}" if en_a else "")


def _line(rng: random.Random) -> Pair:
    """One spoken sentence without final punctuation."""
    roll = rng.random()
    if roll < 0.3:
        (zh_n, en_n), (zh, en) = rng.choice(_NAMES), _clause(rng)
        return f"{zh_n}，{zh}", f"{en_n}, {en}"
    if roll < 0.85:
        return _clause(rng)
    (zh1, en1), (zh2, en2) = _clause(rng), _clause(rng)
    return f"{zh1}，{zh2}", f"{en1}, {en2}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _cue_pairs(rng: random.Random, n: int) -> list[Pair]:
    """``n`` (Chinese, English) cue texts: plain lines, short exclamations, sentences split over
    two cues, two-speaker cues and a little italic markup, in the proportions of real episodes."""
    pairs: list[Pair] = []
    while len(pairs) < n:
        roll = rng.random()
        if roll < 0.15:
            pairs.append(rng.choice(_SHORT))
        elif roll < 0.25 and len(pairs) + 2 <= n:
            # A sentence that runs over two cues: the first has no final punctuation.
            (zh1, en1), (zh2, en2), (zh_e, en_e) = _clause(rng), _clause(rng), rng.choice(_ENDINGS)
            pairs.append((zh1, _capital(en1) + ","))
            pairs.append((f"{zh2}{zh_e}", f"and {en2}{en_e}"))
        elif roll < 0.33:
            (zh_s, en_s), (zh, en), (zh_e, en_e) = rng.choice(_SHORT), _line(rng), rng.choice(_ENDINGS)
            pairs.append((f"-{zh_s}\n-{zh}{zh_e}", f"-{en_s}\n-{_capital(en)}{en_e}"))
        elif roll < 0.37:
            (zh, en), (zh_e, en_e) = _line(rng), rng.choice(_ENDINGS)
            pairs.append((f"<i>{zh}{zh_e}</i>", f"<i>{_capital(en)}{en_e}</i>"))
        else:
            (zh, en), (zh_e, en_e) = _line(rng), rng.choice(_ENDINGS)
            pairs.append((f"{zh}{zh_e}", f"{_capital(en)}{en_e}"))
    return pairs[:n]


def _cue_texts(rng: random.Random, n: int) -> list[str]:
    """The Chinese side of :func:`_cue_pairs`."""
    return [zh for zh, _ in _cue_pairs(rng, n)]


def synthetic_cues(n: int, seed: int) -> list[SyntheticCue]:
    """``n`` cues with reading-speed durations and short gaps (some long, so merging stops)."""
    rng = random.Random(seed)
    cues: list[SyntheticCue] = []
    t = rng.randint(500, 3000)
    for text, english in _cue_pairs(rng, n):
        chars = len(text.replace("\n", ""))
        duration = min(7000, 900 + chars * 160 + rng.randint(0, 400))
        cues.append(SyntheticCue(t, t + duration, text, english))
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


def big_track_translation(cues: int = BIG_TRACK_CUES, *, seed: int = SEED) -> list[str]:
    """The English subtitles of :func:`big_track_srt`, cue for cue: a plausible professional
    translation, so a check can be timed on the input it normally sees."""
    return [cue.english for cue in synthetic_cues(cues, seed + 7)]


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
