"""The short form of benchmarks/crash_trials.py: one kill -9 of each writer (index build, index add, the demo's
upload rebuild and extend) at a seeded random moment, on a small catalog; each must leave the old or the new index,
whole, and a rerun that is not blocked. The long form (--trials 20 or more) is run by hand; see its docstring."""
from __future__ import annotations

from benchmarks.crash_trials import OPS, run


def test_one_kill_per_writer(tmp_path):
    summary = run(trials=len(OPS), seed=1, films=300, workdir=tmp_path, timeout=120, log=lambda line: None,
                  calibration_runs=1)
    failed = [row for row in summary["rows"] if not row["ok"]]
    assert not failed, failed
    assert summary["intact"] == len(OPS) and summary["blocked_reruns"] == 0
    assert {row["op"] for row in summary["rows"]} == set(OPS)
