"""localise.outputs: a run's files reach the output folder all together or not at all, only inside
it, without control characters in their names; staging folders of dead runs are swept."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from localise.errors import ConfigError
from localise.langtags import check_language, check_languages
from localise.outputs import OutputBatch, contained, safe_file_part, sweep_stale_staging

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("tag", ["en", "pt-BR", "zh-Hans", "zh-Hans-CN", "es-419", "sr-Latn", " ja "])
def test_bcp47_tags_pass(tag):
    assert check_language(tag) == tag.strip()


@pytest.mark.parametrize("tag", ["", "x/../../y", "..", "en/", "en_US", "e", "en-", "-en", "en--US", "qq-zz-invalid",
                                 "en\x00", "e\u202en", "12", "english-language-please"])
def test_other_codes_are_refused_with_a_readable_message(tag):
    with pytest.raises(ConfigError, match="BCP 47") as info:
        check_language(tag)
    assert "\x00" not in str(info.value) and "\u202e" not in str(info.value)


def test_check_languages_skips_blanks():
    assert check_languages(["en", " ", "es"]) == ["en", "es"]


def test_safe_file_part_drops_controls_and_separators():
    assert safe_file_part("ep\x1b[1m01\u202e/..\\x\x00") == "ep_[1m01__.._x_"
    assert safe_file_part("第1集") == "第1集"


def test_containment_is_checked_on_the_resolved_path(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    assert contained(out, out / "a.en.srt") == (out / "a.en.srt").resolve()
    for bad in ("a.x/../../y.srt", "../y.srt", "sub/a.srt"):
        with pytest.raises(ConfigError, match="outside the output folder"):
            contained(out, out / bad)
    (out / "link").symlink_to(tmp_path)
    with pytest.raises(ConfigError):
        contained(out, out / "link" / "a.srt")


def test_commit_moves_everything_and_replaces_earlier_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.en.srt").write_text("old")
    with OutputBatch(out) as batch:
        for name in ("a.en.srt", "a.es.srt"):
            batch.stage(out / name).write_text(f"new {name}")
        assert batch.commit() == [out / "a.en.srt", out / "a.es.srt"]
    assert (out / "a.en.srt").read_text() == "new a.en.srt"
    assert sorted(p.name for p in out.iterdir()) == ["a.en.srt", "a.es.srt"]


def test_a_failed_commit_undoes_every_move_and_restores_what_it_replaced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.en.srt").write_text("earlier run")
    with pytest.raises(FileNotFoundError), OutputBatch(out) as batch:
        batch.stage(out / "a.en.srt").write_text("new en")
        batch.stage(out / "a.es.srt").write_text("new es")
        batch.stage(out / "a.pt.srt")  # never written: its move fails after the first two
        batch.commit()
    assert sorted(p.name for p in out.iterdir()) == ["a.en.srt"]
    assert (out / "a.en.srt").read_text() == "earlier run"


def test_a_failed_run_removes_the_folder_it_created(tmp_path):
    out = tmp_path / "new" / "out"
    with pytest.raises(RuntimeError), OutputBatch(out) as batch:
        batch.stage(out / "a.en.srt").write_text("x")
        raise RuntimeError("the model failed on the last group")
    assert not out.exists()


def test_duplicate_output_names_are_refused(tmp_path):
    with OutputBatch(tmp_path) as batch:
        batch.stage(tmp_path / "a.en.srt")
        with pytest.raises(ConfigError, match="same name"):
            batch.stage(tmp_path / "a.en.srt")


def test_only_staging_folders_of_dead_runs_are_swept(tmp_path):
    dead = tmp_path / ".localise-dead"
    (dead / ".previous").mkdir(parents=True)
    (dead / "a.en.srt").write_text("half")
    (tmp_path / ".localise-file").write_text("not a folder: left alone")
    with OutputBatch(tmp_path) as alive:
        assert not dead.exists()  # swept when the batch began
        assert sweep_stale_staging(tmp_path) == []  # the live one holds its lock
        assert alive.staging.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".localise-file"]


def test_full_disk_while_staging_leaves_nothing(tmp_path):
    """RLIMIT_FSIZE makes the kernel refuse a write past 64 kB, as a full disk would."""
    script = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
        "from localise.outputs import OutputBatch\n"
        "out = Path(sys.argv[1]) / 'out'\n"
        "try:\n"
        "    with OutputBatch(out) as batch:\n"
        "        batch.stage(out / 'a.en.srt').write_text('x' * 10)\n"
        "        batch.stage(out / 'a.es.srt').write_bytes(b'x' * 200000)\n"
        "        batch.commit()\n"
        "except OSError as exc:\n"
        "    print('refused', exc.strerror)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "refused File too large"
    assert list(tmp_path.iterdir()) == []
