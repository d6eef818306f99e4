"""The reviewer's re-check judges an edited line inside its sentence, with the pipeline's checks."""

from __future__ import annotations

from localise.glossary import Glossary
from localise.review.recheck import recheck
from localise.review.schema import ReviewTrack


def _track() -> ReviewTrack:
    cues = [
        {"start_ms": 0, "end_ms": 1500, "source": "三天之后，", "translation": "In three days"},
        {"start_ms": 1500, "end_ms": 3500, "source": "林晚晴会回来。", "translation": "Lin Wanqing will be back."},
        {"start_ms": 4000, "end_ms": 6000, "source": "他有五千万。", "translation": "He has fifty million."},
    ]
    return ReviewTrack(series="s", episode="e", language="en", src_lang="zh", format="srt", cues=cues)


def test_an_edit_is_judged_inside_its_sentence(tmp_path) -> None:
    path = tmp_path / "g.csv"
    path.write_text("zh,en\n林晚晴,Lin Wanqing\n", encoding="utf-8")
    glossary = Glossary.load(path)
    # the reviewer rewrites cue 2; the name now sits in cue 1's words of the same sentence: not missing
    track = _track()
    track.cues[0]["translation"] = "Lin Wanqing will be back"
    assert recheck(track, 1, "in three days.", glossary=glossary) == []
    # a line that states another value is a major number flag, as in translate and check
    flags = recheck(_track(), 2, "He has five million.")
    assert [(f["code"], f["severity"]) for f in flags] == [("number", "major")]
