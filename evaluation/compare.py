"""Paired comparison of two evaluation runs (e.g. zero-shot vs fine-tuned generator) on the questions they share.

`python -m rag compare RUN_A RUN_B [--mode rag] [--out FILE.json]` reads each run's per_question.csv (written by
`python -m rag eval`), pairs rows by question and gold answers, and reports B minus A for every answer metric with
a paired bootstrap 95% CI, overall and per question type.
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

from core.config import Settings
from core.errors import CompareError
from evaluation import metrics as M

COMPARE_KEYS = ["hits@1", "any_hit", "em", "f1", "bertscore_f1", "bertscore_f1_rescaled"]


def read_run(run_dir: str | Path, mode: str) -> dict[tuple[str, str], dict]:
    """{(question, gold): {"type": …, metric: float}} for one mode of an eval run."""
    path = Path(run_dir) / "per_question.csv"
    if not path.is_file():
        raise CompareError(f"{path} not found; pass a folder written by `python -m rag eval --out`")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if f"{mode}_hits@1" not in (reader.fieldnames or []):
            raise CompareError(f"{path} has no '{mode}' answers; run the eval with --modes {mode}")
        rows = {}
        for row in reader:
            scores = {key: _number(row.get(f"{mode}_{key}")) for key in COMPARE_KEYS}
            rows[(row["question"], row["gold"])] = {"type": row.get("type") or "unknown", **scores}
    return rows


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return None if value is None or math.isnan(value) else value


def compare_runs(run_a: str | Path, run_b: str | Path, settings: Settings, mode: str = "rag") -> dict:
    """B minus A on the questions both runs answered: overall and per type, each metric with a paired bootstrap CI.

    Args:
        run_a, run_b: folders written by `python -m rag eval --out` (each holds per_question.csv).
        settings: bootstrap resamples (`settings.eval`) and seed (`settings.run`).
        mode: which answers to compare, "rag" or "plain".

    Returns:
        {"a", "b", "mode", "only_a", "only_b", "overall", "by_type"}; each block holds n and, per metric both runs
        scored, {"a", "b", "delta", "ci_low", "ci_high", "p_value", …} (delta = B − A).

    Raises:
        CompareError: a run has no per_question.csv or no answers of `mode`, or the runs share no question.
    """
    a, b = read_run(run_a, mode), read_run(run_b, mode)
    shared = [key for key in a if key in b]
    if not shared:
        raise CompareError(f"{run_a} and {run_b} share no questions")

    def block(keys: list[tuple[str, str]]) -> dict:
        out: dict = {"n": len(keys)}
        for metric in COMPARE_KEYS:
            pairs = [(a[k][metric], b[k][metric]) for k in keys
                     if a[k][metric] is not None and b[k][metric] is not None]
            if pairs:
                xs, ys = zip(*pairs)
                delta = M.paired_bootstrap(list(ys), list(xs), settings.eval.bootstrap_resamples, settings.run.seed)
                out[metric] = {"a": float(sum(xs) / len(xs)), "b": float(sum(ys) / len(ys)), **delta}
        return out

    by_type: dict[str, list] = {}
    for key in shared:
        by_type.setdefault(a[key]["type"], []).append(key)
    return {"a": str(run_a), "b": str(run_b), "mode": mode,
            "only_a": len(a) - len(shared), "only_b": len(b) - len(shared),
            "overall": block(shared), "by_type": {t: block(keys) for t, keys in sorted(by_type.items())}}


def markdown(result: dict) -> str:
    """A readable table: A, B and B − A with its CI, overall then by type (hits@1 and BERTScore F1)."""
    title = (f"B = {result['b']}  vs  A = {result['a']}  "
             f"({result['mode']} mode, {result['overall']['n']} shared questions)")
    lines = [title, "", "| | n | metric | A | B | B − A [95% CI] |", "|---|---|---|---|---|---|"]
    rows = [("overall", result["overall"])] + list(result["by_type"].items())
    for name, block in rows:
        for metric in (COMPARE_KEYS if name == "overall" else ["hits@1", "bertscore_f1"]):
            if metric in block:
                m = block[metric]
                lines.append(f"| {name} | {block['n']} | {metric} | {m['a']:.3f} | {m['b']:.3f} | "
                             f"{m['delta']:+.3f} [{m['ci_low']:+.3f}, {m['ci_high']:+.3f}] |")
    return "\n".join(lines)

