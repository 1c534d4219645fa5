"""python -m index: build / add / info, --format, --no-progress, and one-line errors with non-zero exit."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import index_main as main
from tests.index.conftest import FakeEmbedder, snapshot

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    monkeypatch.setattr("core.models.load_embedder", lambda *a, **k: FakeEmbedder())


def test_build_add_info(sample_csv, tmp_path, capsys, movies):
    out = tmp_path / "idx"
    assert main(["build", str(sample_csv), "--out", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr()
    line = captured.out.strip()
    assert "embedding" not in captured.err  # --no-progress: no bar
    assert line.startswith(f"built {out}: {len(movies)} movies,") and "passages/s" in line
    assert main(["add", str(out), str(sample_csv), "--no-progress", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["embedded"] == 0 and report["unchanged"] == report["passages"]
    assert main(["info", str(out)]) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["movies"] == len(movies) and manifest["passages"] == report["passages"]


def test_progress_bar_by_default(sample_csv, tmp_path, capsys):
    assert main(["build", str(sample_csv), "--out", str(tmp_path / "idx")]) == 0
    assert "embedding" in capsys.readouterr().err


def test_format_override(tmp_path, capsys):
    path = tmp_path / "odd.txt"
    path.write_text("Title,Overview,Release_Date,Vote_Average,Original_Language,Genre\n"
                    "Jaws,A shark.,1975-06-20,7.7,en,Thriller\n")
    out = tmp_path / "idx"
    assert main(["build", str(path), "--out", str(out), "--format", "tmdb", "--no-progress"]) == 0
    assert json.loads((out / "manifest.json").read_text())["sources"][0]["format"] == "tmdb"
    assert main(["build", str(path), "--out", str(out), "--format", "wiki_plots", "--no-progress"]) == 2
    assert "not in wiki_plots format" in capsys.readouterr().err


def test_errors_are_one_line(tmp_path, sample_csv, capsys):
    out = tmp_path / "indexes" / "idx"
    assert main(["build", str(sample_csv), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    before = snapshot(out)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    for argv in (["build", str(bad), "--out", str(out)], ["add", str(out), str(bad)],
                 ["add", str(tmp_path / "none"), str(sample_csv)], ["info", str(tmp_path / "none")]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
    assert snapshot(out) == before


def test_subprocess_help_and_error(tmp_path):
    run = lambda *args: subprocess.run([sys.executable, "-m", "index", *args], capture_output=True, text=True, cwd=REPO)
    help_text = run("--help").stdout
    assert all(cmd in help_text for cmd in ("build", "add", "info"))
    assert "--no-progress" in run("build", "--help").stdout and "--hnsw" in run("build", "--help").stdout
    result = run("build", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "idx"))
    assert result.returncode == 2 and result.stderr == f"error: {tmp_path / 'missing.csv'}: no such file\n"
    assert not (tmp_path / "idx").exists()


# ---------------------------------------------------------------- an index of another embedder or schema

def _edit_manifest(folder, **changes) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest.update(changes)
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("change, phrase", [
    ({"embedder": "some/other-model", "embedder_hash": "0123456789abcdef"}, "built with embedder 'some/other-model'"),
    ({"schema_version": 2}, "index schema version 2, expected 1; rebuild the index"),
    ({"schema_version": None}, "index schema version None, expected 1"),
])
def test_other_embedder_or_schema_refused_in_one_line(tmp_path, sample_csv, capsys, change, phrase):
    out = tmp_path / "idx"
    assert main(["build", str(sample_csv), "--out", str(out), "--no-progress"]) == 0
    _edit_manifest(out, **change)
    before = snapshot(out)
    capsys.readouterr()
    commands = [["add", str(out), str(sample_csv), "--no-progress"]]
    if "schema_version" in change:  # info and verify read any embedder's index, but not another schema
        commands += [["info", str(out)], ["verify", str(out)]]
    for argv in commands:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith(f"error: {out}: ") and phrase in err and err.count("\n") == 1, err
    assert snapshot(out) == before


def test_embedder_of_another_size_refused(tmp_path, sample_csv, monkeypatch, capsys, movies):
    out = tmp_path / "idx"
    assert main(["build", str(sample_csv), "--out", str(out), "--no-progress"]) == 0
    more = tmp_path / "more.csv"
    more.write_text("title,year\nRan,1985\n")
    before = snapshot(out)
    monkeypatch.setattr("core.models.load_embedder", lambda *a, **k: FakeEmbedder(dim=8))
    capsys.readouterr()
    assert main(["add", str(out), str(more), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {out}: index vectors have dim 384, the embedder makes dim 8; rebuild the index with this " \
                  f"embedder\n", err
    assert snapshot(out) == before
