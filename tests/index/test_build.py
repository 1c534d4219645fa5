"""Build, add (upsert by content hash), and crash safety: bad input and kills never touch the index."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from filelock import FileLock

from core.errors import CatalogError, IndexLoadError
from core.fileio import clean_stale, replace_dir
from index.build import add_to_index, build_index
from index.store import load_index, read_manifest
from tests.index.conftest import FakeEmbedder, snapshot, write_sample_csv

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def built(sample_csv, settings, fake_embedder):
    report = build_index([str(sample_csv)], settings.index.index_dir, settings, embedder=fake_embedder)
    return Path(settings.index.index_dir), report


def test_build_report(built, movies):
    folder, report = built
    assert report["movies"] == len(movies) == read_manifest(folder)["movies"]
    assert report["passages"] == report["embedded"] == read_manifest(folder)["passages"]
    for key in ("seconds", "passages_per_s", "skipped", "sources"):
        assert key in report
    assert not [p for p in folder.parent.iterdir() if ".tmp-" in p.name]


def test_build_with_real_embedder_finds_director(sample_csv, settings, embedder):
    build_index([str(sample_csv)], settings.index.index_dir, settings, embedder=embedder)
    index = load_index(settings.index.index_dir, settings, embedder)
    query = embedder.encode(["Who directed Jaws?"], normalize_embeddings=True)
    _, ids = index.dense_search(query, 3)
    assert any(index.passages[i].key == "card:jaws (1975)" for i in ids[0])


def test_progress_callback(sample_csv, settings, fake_embedder):
    calls = []
    build_index([str(sample_csv)], settings.index.index_dir, settings, embedder=fake_embedder,
                on_progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1] == len(fake_embedder.encoded)


# ---------------------------------------------------------------- add / upsert

def test_add_same_catalog_embeds_nothing(built, sample_csv, settings):
    folder, report = built
    embedder = FakeEmbedder()
    add = add_to_index(str(folder), [str(sample_csv)], settings, embedder=embedder)
    assert (add["new"], add["updated"], add["removed"], add["embedded"]) == (0, 0, 0, 0)
    assert add["unchanged"] == report["passages"] and embedder.encoded == []


def test_add_upserts_by_hash(built, movies, settings, tmp_path):
    folder, report = built
    before = load_index(folder)
    old_vectors = {p.key: before.vectors[i].copy() for i, p in enumerate(before.passages)}
    movies[1].plot = "A new plot about a shark and a small island town."  # same source file, edited
    from core.records import Movie

    movies.append(Movie(title="Heat", year=1995, directors=["Michael Mann"], cast=["Al Pacino"]))
    path = write_sample_csv(movies, tmp_path / "sample.csv")  # same file name → replaces its old records
    embedder = FakeEmbedder()
    add = add_to_index(str(folder), [str(path)], settings, embedder=embedder)
    after = load_index(folder, settings)
    keys = {p.key for p in after.passages}
    assert {"card:heat (1995)", "plot:jaws (1975):0", "person:michael mann:0"} <= keys
    assert add["updated"] == 2  # Jaws plot chunk; Al Pacino's person card now lists Heat too
    assert add["new"] == 2  # Heat card, Michael Mann card (Heat has no plot)
    assert add["embedded"] == add["new"] + add["updated"] == len(embedder.encoded)
    assert add["unchanged"] == report["passages"] - 2 and add["movies"] == len(movies)
    for i, p in enumerate(after.passages):  # unchanged passages kept their exact vectors
        if p.key in old_vectors and p.key not in {"plot:jaws (1975):0", "person:al pacino:0"}:
            assert (after.vectors[i] == old_vectors[p.key]).all()


def test_add_other_source_merges(built, settings, tmp_path):
    folder, _ = built
    other = tmp_path / "extra.csv"
    other.write_text("title,year,directors,cast\nJaws,1975,Steven Spielberg,Lorraine Gary\n")
    add_to_index(str(folder), [str(other)], settings, embedder=FakeEmbedder())
    card = next(p for p in load_index(folder).passages if p.key == "card:jaws (1975)")
    assert "Roy Scheider" in card.text and "Lorraine Gary" in card.text  # united, nothing lost


def test_add_plots_to_kb_index(settings, tmp_path):
    kb = tmp_path / "kb.txt"
    kb.write_text("Mrs. Parkington|directed_by|Tay Garnett\nMrs. Parkington|release_year|1944\n")
    plots = tmp_path / "plots.txt"
    plots.write_text("mrs parkington|has_plot|a woman recalls her life.\n")
    build_index([str(kb)], settings.index.index_dir, settings, embedder=FakeEmbedder())
    add = add_to_index(settings.index.index_dir, [str(plots)], settings, embedder=FakeEmbedder())
    assert (add["new"], add["updated"], add["movies"]) == (1, 0, 1)
    plot = next(p for p in load_index(settings.index.index_dir).passages if p.kind == "plot")
    assert plot.text == "Mrs. Parkington (1944): a woman recalls her life."


def test_add_to_missing_index(settings, sample_csv):
    with pytest.raises(IndexLoadError, match="no index here"):
        add_to_index(settings.index.index_dir, [str(sample_csv)], settings, embedder=FakeEmbedder())


# ---------------------------------------------------------------- bad input leaves the index byte-for-byte unchanged

def _bad_sources(tmp: Path) -> dict[str, str]:
    tmp.mkdir(exist_ok=True)
    files = {
        "empty": b"",
        "header_only": b"title,year,directors\n",
        "wrong_delimiter": b"title:year\nJaws:1975\n",  # , ; tab and | are sniffed; ':' is not a delimiter
        "no_title_column": b"colour,size\nred,3\n",
        "binary": os.urandom(4096),
        "only_huge_field": b"title,plot\nHuge," + b"x" * 10_000_000 + b"\n",
        "only_duplicates_without_title": b"title,year\n,1975\n,1975\n",
        "utf16_truncated": "title,year\nAmélie,2001\n".encode("utf-16") + b"\x00",
        "latin1_no_title": "Année,Réalisateur\n2001,Jeunet\n".encode("latin-1"),
    }
    out = {}
    for name, content in files.items():
        (tmp / f"{name}.csv").write_bytes(content)
        out[name] = str(tmp / f"{name}.csv")
    out["directory"] = str(tmp)
    out["missing"] = str(tmp / "missing.csv")
    return out


BAD = ["empty", "header_only", "wrong_delimiter", "no_title_column", "binary", "only_huge_field",
       "only_duplicates_without_title", "utf16_truncated", "latin1_no_title", "directory", "missing"]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("operation", ["build", "add"])
def test_bad_input_leaves_index_unchanged(built, sample_csv, settings, tmp_path, bad, operation):
    folder, _ = built
    source = _bad_sources(tmp_path / "bad")[bad]
    before = snapshot(folder)
    embedder = FakeEmbedder()
    with pytest.raises(CatalogError) as err:
        if operation == "build":  # a good source next to the bad one must not help
            build_index([str(sample_csv), source], str(folder), settings, embedder=embedder)
        else:
            add_to_index(str(folder), [source], settings, embedder=embedder)
    assert source in str(err.value) and "\n" not in str(err.value)
    assert snapshot(folder) == before and embedder.encoded == []
    load_index(folder, settings)


@pytest.mark.parametrize("good", ["latin1", "utf16", "duplicates", "nan_years", "big_field_row"])
def test_partly_bad_input_is_read_and_counted(built, settings, tmp_path, good):
    folder, _ = built
    rows = {
        "latin1": ("title,year\nAmélie,2001\n".encode("latin-1"), {}),
        "utf16": ("title,year\nAmélie,2001\n".encode("utf-16"), {}),
        "duplicates": (b"title,year\nAmelie,2001\nAmelie,2001\n", {"duplicate row": 1}),
        "nan_years": (b"title,year\nAmelie,NaN\n", {}),
        "big_field_row": (b"title,plot\nAmelie,ok\nHuge," + b"x" * 10_000_000 + b"\n",
                          {"field longer than 200,000 characters": 1}),
    }
    content, skipped = rows[good]
    path = tmp_path / f"{good}.csv"
    path.write_bytes(content)
    report = add_to_index(str(folder), [str(path)], settings, embedder=FakeEmbedder())
    assert report["skipped"] == ({str(path): skipped} if skipped else {})
    assert any(p.title.startswith("Am") and p.kind == "card" for p in load_index(folder).passages)


# ---------------------------------------------------------------- crash safety

_CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {repo!r})
    import index.build as b
    from core.config import Settings
    from tests.index.conftest import FakeEmbedder

    class Slow(FakeEmbedder):
        def encode(self, texts, **kw):
            print("EMBEDDING", flush=True)
            time.sleep(60)

    def slow_swap(tmp, target):
        print("SWAPPING", flush=True)
        time.sleep(60)
    embedder = Slow() if {stage!r} == "embedding" else FakeEmbedder()
    if {stage!r} == "swap":
        b.replace_dir = slow_swap
    b.build_index([{source!r}], {out!r}, Settings().with_overrides(progress=False), embedder=embedder)
""")


@pytest.mark.parametrize("stage", ["embedding", "swap"])
def test_kill_midway_keeps_old_index(built, settings, tmp_path, movies, stage):
    folder, _ = built
    before = snapshot(folder)
    new_source = write_sample_csv(movies[:2], tmp_path / "smaller.csv")
    code = _CHILD.format(repo=str(REPO), stage=stage, source=str(new_source), out=str(folder))
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=REPO)
    try:
        line = child.stdout.readline().strip()
        assert line == ("EMBEDDING" if stage == "embedding" else "SWAPPING"), child.stderr.read()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == -signal.SIGKILL
    if stage == "swap":  # killed with the new index complete but not swapped in: its temp folder is left behind
        assert [p for p in folder.parent.iterdir() if ".tmp-" in p.name]
    index = load_index(folder, settings)  # the old index, whole
    assert index.manifest["movies"] == len(movies)
    without_siblings = lambda files: {k: v for k, v in files.items() if k != "<siblings>"}
    assert without_siblings(snapshot(folder)) == without_siblings(before)
    # the next build cleans the dead build's temp folder and succeeds
    build_index([str(new_source)], str(folder), settings, embedder=FakeEmbedder())
    assert load_index(folder).manifest["movies"] == 2
    assert not [p for p in folder.parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def test_swap_is_atomic_exchange(built, sample_csv, settings, tmp_path):
    folder, _ = built
    inode = folder.stat().st_ino
    build_index([str(sample_csv)], str(folder), settings, embedder=FakeEmbedder())
    assert folder.stat().st_ino != inode and load_index(folder)


def test_fallback_swap_recovered_after_crash(built, settings, monkeypatch):
    """Where renameat2 is missing the swap is two renames; a crash between them is repaired on load."""
    folder, _ = built
    before = snapshot(folder)
    old = folder.parent / f".{folder.name}.old-999999"
    os.rename(folder, old)  # what a crash right after the first rename leaves behind
    index = load_index(folder, settings)
    assert index.manifest["movies"] == 5 and {k: v for k, v in snapshot(folder).items() if k != "<siblings>"} == {
        k: v for k, v in before.items() if k != "<siblings>"}
    monkeypatch.setattr("core.fileio._exchange", lambda a, b: False)
    tmp = folder.parent / ".index.tmp-1-x"
    tmp.mkdir()
    (tmp / "marker").write_text("new")
    replace_dir(tmp, folder)
    assert (folder / "marker").exists() and not old.exists() and not tmp.exists()


def test_stale_temp_folders_cleaned(built):
    folder, _ = built
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = folder.parent / f".{folder.name}.tmp-{dead.pid}-abc"
    live = folder.parent / f".{folder.name}.tmp-{os.getpid()}-abc"
    stale.mkdir(), live.mkdir()
    with FileLock(live.with_name(live.name + ".lock")):  # a live build holds its staging folder's lock
        assert clean_stale(folder) == [stale] and live.exists()


