"""Crash trials: kill -9 index writers at random moments and check what is left.

    python -m benchmarks.crash_trials --trials 20 --seed 1 [--films 2000] [--workdir DIR] [--json FILE]

Four writers are killed in turn: `index build` over an existing index and `index add` (index.build's functions
under core.flags.run_command, as cli/index_cmd.py runs them), and the demo's upload rebuild and extend
(rag.ui.Demo.update_index, which the Index tab calls). Each runs in a child
process with a hash embedder (deterministic vectors from a text hash, no model load), so a trial takes seconds;
the catalogs are synthetic. The kill lands a uniform random time after the child starts its work (before it, for
calibration, each writer runs once whole). After every kill:

- the target folder must hold exactly the old index or the new one (every file's sha256 and the manifest, minus
  its build time, equal to a reference built beforehand), never a mix, and load and pass `index verify`;
  the demo's extend may also leave the copy of the live index it extends (a whole index, the step before);
- the demo's live index is untouched;
- the same command run again must finish (not blocked by a stale lock or temp folder: timeout --timeout seconds),
  produce the new index and leave no temp folder behind.

Exit 1 when any trial breaks one of these. The phase a kill landed in is read from markers the child prints.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

OPS = ("build", "add", "demo-rebuild", "demo-extend")
VOLATILE = ("built_at", "build_seconds", "created_at", "manifest_sha256")  # manifest keys that differ run to run
REPO = Path(__file__).resolve().parents[1]


class HashEmbedder:
    """Unit vectors from a sha256 of each text (dim 384, like MiniLM): deterministic, and no model to load."""

    def get_embedding_dimension(self) -> int:
        return 384

    def encode(self, texts, **kwargs) -> np.ndarray:
        rows = [np.random.default_rng(int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little"))
                .standard_normal(384).astype(np.float32) for t in texts]
        out = np.stack(rows) if rows else np.zeros((0, 384), np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True) if len(out) else out


# ---------------------------------------------------------------- the work folder and its reference indexes

def _catalog(path: Path, first: int, count: int, edition: int = 0) -> None:
    """A synthetic sample-format CSV of films first..first+count-1 (`edition` changes their plots)."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["title", "year", "directors", "cast", "genres", "runtime", "plot"])
        for i in range(first, first + count):
            plot = " ".join(f"word{(i * j + edition) % 997}" for j in range(120))
            out.writerow([f"Film {i}", 1930 + i % 90, f"Director {i % 211}", f"Actor {i % 307}|Actor {i * 7 % 307}",
                          ("Drama", "Comedy", "Thriller", "Western")[i % 4], 80 + i % 90, plot])


class Layout:
    """Paths of one work folder: catalogs, reference indexes, and the folders each writer writes."""

    def __init__(self, workdir: Path) -> None:
        self.root = workdir
        self.old_csv, self.new_csv, self.extra_csv = (workdir / f"{n}.csv" for n in ("old", "new", "extra"))
        self.refs = workdir / "refs"
        self.live = workdir / "live" / "index"  # the demo's serving index (and the old index of build/add)
        self.target = workdir / "work" / "index"  # what build and add write
        self.uploads = workdir / "work" / "index-uploads"  # what the demo's rebuild and extend write

    def ref(self, name: str) -> Path:
        return self.refs / name

    def target_of(self, op: str) -> Path:
        return self.uploads if op.startswith("demo") else self.target


def _settings():
    from core.config import Settings

    return Settings().with_overrides(progress=False)


def prepare(workdir: Path, films: int) -> Layout:
    """Write the catalogs and build the reference indexes in-process: old, new (a rebuild from new.csv), added
    (old + extra.csv), and an earlier upload (extra.csv alone) that the demo's writers replace."""
    from index.build import add_to_index, build_index

    layout = Layout(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    _catalog(layout.old_csv, 0, films)
    _catalog(layout.new_csv, films // 4, films, edition=1)  # a quarter gone, a quarter new, the rest re-plotted
    _catalog(layout.extra_csv, films, max(1, films // 10))
    settings, embedder = _settings(), HashEmbedder()
    build_index([str(layout.old_csv)], str(layout.ref("old")), settings, embedder=embedder)
    build_index([str(layout.new_csv)], str(layout.ref("new")), settings, embedder=embedder)
    build_index([str(layout.extra_csv)], str(layout.ref("upload")), settings, embedder=embedder)
    shutil.copytree(layout.ref("old"), layout.ref("added"))
    add_to_index(str(layout.ref("added")), [str(layout.extra_csv)], settings, embedder=embedder)
    shutil.copytree(layout.ref("old"), layout.live)
    return layout


def fingerprint(folder: Path) -> str | None:
    """sha256 over every file's path and content, the manifest without its build times; None when absent."""
    if not (folder / "manifest.json").is_file():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        content = path.read_bytes()
        if path.name == "manifest.json" and path.parent == folder:
            manifest = {k: v for k, v in json.loads(content).items() if k not in VOLATILE}
            content = json.dumps(manifest, sort_keys=True).encode()
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + hashlib.sha256(content).digest())
    return digest.hexdigest()


def _reset(layout: Layout, op: str) -> None:
    """Put the op's target back to its start: the old index (build, add) or an earlier upload (the demo's)."""
    target = layout.target_of(op)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(layout.ref("upload" if op.startswith("demo") else "old"), target)


def _leftovers(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


# ---------------------------------------------------------------- the child: one writer, with phase markers

def _mark(phase: str) -> None:
    print(f"PHASE {phase}", flush=True)


def _observed(module, name: str, phase: str, after: str | None = None) -> None:
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        _mark(phase)
        result = real(*args, **kwargs)
        if after:
            _mark(after)
        return result
    setattr(module, name, wrapper)


def child(op: str, workdir: Path) -> int:
    """Run one writer as its command (the library call under core.flags.run_command, as cli/index_cmd.py makes it)
    or the demo would, printing READY, then a marker as each phase starts."""
    import core.fileio
    import index.build
    from core import models
    from core.flags import run_command
    from rag import ui

    models.load_embedder = lambda *a, **k: HashEmbedder()
    _observed(index.build, "read_catalogs", "read")
    _observed(index.build, "embed_texts", "embed")
    _observed(index.build, "save_index", "write")
    _observed(core.fileio, "fsync_tree", "fsync", after="rename")
    _observed(ui, "_copy_dir", "copy-live")
    layout = Layout(workdir)
    print("READY", flush=True)
    if op == "build":  # what `python -m index build new.csv --out DIR --no-progress` runs
        code = run_command(lambda: print(index.build.build_index([str(layout.new_csv)], str(layout.target),
                                                                 _settings())["passages"], "passages"))
    elif op == "add":  # `python -m index add DIR extra.csv --no-progress`
        code = run_command(lambda: print(index.build.add_to_index(str(layout.target), [str(layout.extra_csv)],
                                                                  _settings())["passages"], "passages"))
    else:
        demo = ui.Demo(_Serving(), _settings().with_overrides(index_dir=str(layout.live)), str(layout.uploads))
        csv = layout.extra_csv if op == "demo-extend" else layout.new_csv
        status = demo.update_index([str(csv)], extend=op == "demo-extend")
        print(status, flush=True)
        code = 0 if status.startswith("Done") else 2
    _mark("done")
    return code


class _Serving:
    """What Demo.update_index needs of the pipeline it swaps a new index into: no planner, a swap."""
    planner = None

    def swap_index(self, index, catalog=None) -> None:
        self.index = index


def _spawn(op: str, workdir: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "benchmarks.crash_trials", "--child", op, "--workdir",
                             str(workdir)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# ---------------------------------------------------------------- the trials

def calibrate(layout: Layout, op: str, timeout: float, runs: int = 3) -> float:
    """Median seconds an uninterrupted run of `op` takes from READY to its last marker (the work, not the exit);
    the median of a few runs, so one slow run on a busy machine does not push the kills past the end."""
    return sorted(_timed_run(layout, op, timeout) for _ in range(runs))[runs // 2]


def _timed_run(layout: Layout, op: str, timeout: float) -> float:
    _reset(layout, op)
    proc = _spawn(op, layout.root)
    if proc.stdout.readline().strip() != "READY":
        raise RuntimeError(f"{op}: child failed to start: {proc.stderr.read()[-500:]}")
    start = time.monotonic()
    for line in proc.stdout:
        if line.strip() == "PHASE done":
            seconds = time.monotonic() - start
            break
    proc.wait(timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{op}: child failed: {proc.stderr.read()[-500:]}")
    return seconds


def allowed_states(layout: Layout, op: str, refs: dict[str, str]) -> dict[str, str]:
    """Fingerprint → name of the states the op's target may be found in after a kill."""
    old = refs["upload"] if op.startswith("demo") else refs["old"]
    new = refs["new"] if op in ("build", "demo-rebuild") else refs["added"]
    states = {old: "old", new: "new"}
    if op == "demo-extend":
        states.setdefault(refs["old"], "live copy")  # _copy_dir done, add_to_index not yet swapped in
    return states


def run_trial(layout: Layout, op: str, delay: float, refs: dict[str, str], timeout: float) -> dict:
    """Kill `op` -9 `delay` seconds into its work; check the state left, then rerun it. One result row."""
    from index.store import load_index
    from index.verify import verify_index

    _reset(layout, op)
    target = layout.target_of(op)
    proc = _spawn(op, layout.root)
    ready = proc.stdout.readline().strip()
    time.sleep(delay)
    finished_first = proc.poll() is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=timeout)
    phases = [line.split()[1] for line in proc.stdout.read().splitlines() if line.startswith("PHASE ")]
    row = {"op": op, "delay_s": round(delay, 3), "phase": phases[-1] if phases else "start",
           "finished_before_kill": finished_first, "ready": ready == "READY"}
    state = allowed_states(layout, op, refs).get(fingerprint(target), "MIXED OR MISSING")
    try:
        load_index(target)
        verify_index(target)
        loads = "ok"
    except Exception as exc:
        loads = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    row.update(state=state, loads=loads, leftovers_after_kill=len(_leftovers(target)),
               live_intact=fingerprint(layout.live) == refs["old"])
    start = time.monotonic()
    try:
        rerun = subprocess.run([sys.executable, "-m", "benchmarks.crash_trials", "--child", op, "--workdir",
                                str(layout.root)], cwd=REPO, capture_output=True, text=True, timeout=timeout)
        rerun_code, blocked = rerun.returncode, rerun.returncode != 0
    except subprocess.TimeoutExpired:
        rerun_code, blocked = None, True
    row.update(rerun_s=round(time.monotonic() - start, 2), rerun_code=rerun_code, blocked=blocked,
               rerun_state=allowed_states(layout, op, refs).get(fingerprint(target), "MIXED OR MISSING"),
               leftovers_after_rerun=_leftovers(target))
    row["intact"] = (row["ready"] and state != "MIXED OR MISSING" and loads == "ok" and row["live_intact"])
    row["ok"] = row["intact"] and not blocked and row["rerun_state"] == "new" and not row["leftovers_after_rerun"]
    return row


def run(trials: int, seed: int, films: int, workdir: Path, timeout: float = 120.0,
        ops: tuple[str, ...] = OPS, log=print, calibration_runs: int = 3) -> dict:
    """Prepare, calibrate the ops, run `trials` kills (ops in turn, seeded random delays) and summarise."""
    layout = prepare(workdir, films)
    refs = {name: fingerprint(layout.ref(name)) for name in ("old", "new", "added", "upload")}
    used = ops[:trials] if trials < len(ops) else ops
    durations = {op: calibrate(layout, op, timeout, calibration_runs) for op in used}
    log("calibration (s from READY to the end of the work): "
        + ", ".join(f"{op} {s:.2f}" for op, s in durations.items()))
    rng = random.Random(seed)
    rows = []
    for i in range(trials):
        op = used[i % len(used)]
        row = run_trial(layout, op, rng.uniform(0, durations[op]), refs, timeout)
        rows.append(row)
        log(f"trial {i + 1:>3} {op:<12} kill at {row['delay_s']:6.3f} s in {row['phase']:<9} → {row['state']:<9} "
            f"loads {row['loads']}; rerun {row['rerun_s']:.1f} s → {row['rerun_state']}"
            f"{'' if row['ok'] else '  ✗ ' + json.dumps(row)}")
    summary = {"trials": trials, "seed": seed, "films": films, "calibration_s": durations,
               "intact": sum(r["intact"] for r in rows), "blocked_reruns": sum(r["blocked"] for r in rows),
               "ok": sum(r["ok"] for r in rows), "states": _count(r["state"] for r in rows),
               "phases": _count(r["phase"] for r in rows),
               "temp_folders_left_by_kill": sum(r["leftovers_after_kill"] > 0 for r in rows), "rows": rows}
    log(f"{summary['intact']}/{trials} intact after kill -9 (old or new index, whole, loads and verifies), "
        f"{summary['blocked_reruns']} blocked reruns, {summary['ok']}/{trials} fully ok; states {summary['states']}; "
        f"kills by phase {summary['phases']}; {summary['temp_folders_left_by_kill']} kills left a temp folder, "
        f"every rerun cleaned it")
    return summary


def _count(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.crash_trials", description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20, help="kills in all, the writers in turn (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the kill moments (default 1)")
    parser.add_argument("--films", type=int, default=2000, help="films in the synthetic catalogs (default 2000)")
    parser.add_argument("--workdir", help="work folder (default: a new temporary folder, deleted after)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a rerun may take before it counts "
                                                                      "as blocked (default 120)")
    parser.add_argument("--json", metavar="FILE", help="also write the summary and every trial as JSON")
    parser.add_argument("--child", choices=OPS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, Path(args.workdir))
    with tempfile.TemporaryDirectory(prefix="crash-trials-") as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        summary = run(args.trials, args.seed, args.films, workdir, args.timeout)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n")
    return 0 if summary["ok"] == args.trials else 1


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
