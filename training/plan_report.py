"""The planner's scores by operation and source, and its model card (models/planner/README.md)."""
from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

COMMAND = ("python -m training plan-data --out runs/planner_data\n"
           "python -m training planner --data runs/planner_data --out models/planner  # + the generalisation check")


def summarize(scored: dict, rows: list[dict], threshold: float) -> dict:
    """Accuracy of the label and of the whole plan per gold operation (and per source), plus the share of plans
    at or above the threshold and the plan accuracy among them."""
    if not rows:
        return {}
    accepted = scored["confidence"] >= threshold
    out: dict = {"n": len(rows), "label_acc": _mean(scored["label_ok"]), "plan_acc": _mean(scored["plan_ok"]),
                 "accepted": _mean(accepted), "accepted_plan_acc": _mean(scored["plan_ok"][accepted])}
    for key, name in (("op", "by_op"), ("source", "by_source"), ("type", "by_type")):
        groups: dict[str, list[int]] = defaultdict(list)
        for i, row in enumerate(rows):
            if key in row or key == "op":
                groups[row.get(key) or row["label"].split()[0]].append(i)
        if len(groups) <= 1 and key != "op":
            continue
        out[name] = {g: {"n": len(ix), "label_acc": _mean(scored["label_ok"][ix]),
                         "plan_acc": _mean(scored["plan_ok"][ix]), "accepted": _mean(accepted[ix])}
                     for g, ix in sorted(groups.items())}
    wrong = Counter((row["label"], scored["pred"][i]) for i, row in enumerate(rows) if not scored["label_ok"][i])
    out["confusions"] = [f"{g} → {p}: {n}" for (g, p), n in wrong.most_common(8)]
    return out


def _mean(values) -> float:
    values = np.asarray(values)
    return round(float(values.mean()), 4) if values.size else 0.0


def _table(part: dict, key: str) -> list[str]:
    lines = ["| | n | label acc | plan acc | ≥ threshold |", "|---|---|---|---|---|"]
    for name, s in part.get(key, {}).items():
        lines.append(f"| {name} | {s['n']} | {s['label_acc']:.3f} | {s['plan_acc']:.3f} | {s['accepted']:.3f} |")
    lines.append(f"| **all** | {part['n']} | {part['label_acc']:.3f} | {part['plan_acc']:.3f} | "
                 f"{part['accepted']:.3f} |")
    return lines


def model_card(report: dict) -> str:
    """Markdown: what the planner is, how it was trained, and its scores."""
    lines = ["# Planner: question → plan (rag.planner)", "",
             "A multinomial logistic regression over the normalised all-MiniLM-L6-v2 embedding of the question",
             "with its linked entities and tagged values masked (\"who directed the films starring [PERSON]\"),",
             "plus hashed word n-grams of the same masked text. It predicts the plan without its entities (a label",
             "such as `lookup < actor > director`); rag.planner fills the slots from the linker and the constraint",
             "tagger. Weights: `planner.safetensors` (coef, intercept, bow); labels, the tuned threshold and the",
             "template words: `labels.json`. No pickle.", "",
             f"- labels: {report['labels']}; training questions: {report['sizes']['train']}; "
             f"WikiMovies/MetaQA dev questions in training: {report['config']['bench']}",
             f"- confidence threshold (tuned on validation, fallback accuracy "
             f"{report['config']['fallback_accuracy']}): **{report['threshold']}**",
             f"- planner latency per question (link + tag + one encode + matrix product): p50 "
             f"{report['latency_ms'].get('p50')} ms, p90 {report['latency_ms'].get('p90')} ms", "",
             "Label acc: the predicted label is right. Plan acc: the whole plan is right (topics, expected value,",
             "constraints, n). ≥ threshold: share of plans run exactly (the rest fall back to hybrid RAG).", ""]
    for name, title in (("val", "Validation (held-out dev template groups, before the refit: tunes the threshold)"),
                        ("test", "Test (held-out template groups: phrasings never trained on)"),
                        ("bench_eval", "WikiMovies / MetaQA dev questions "
                                       + ("(held-out share)" if report["config"]["bench"] else "(none trained on)")),
                        ("eval_test", "Evaluation set, test split (plans of `rag eval` questions, by type)")):
        part = report.get(name)
        if part:
            lines += [f"## {title}", ""] + _table(part, "by_type" if "by_type" in part else "by_op") + [""]
            if "by_source" in part:
                lines += _table(part, "by_source") + [""]
    general = report.get("without_bench")
    if general:
        lines += ["## Generalisation check: trained without the WikiMovies/MetaQA dev questions", "",
                  f"{general['train']} generated questions only (threshold {general['threshold']}), scored on all",
                  f"{general['bench']['n']} WikiMovies/MetaQA dev questions (none trained on). The gap to the",
                  "benchmark table above says how much of that score is template memory.", ""]
        lines += _table(general["bench"], "by_source") + [""]
        for name in ("test", "eval_test"):
            if name in general:
                lines += [f"Same model, {name}:", ""] + _table(general[name], "by_type" if name == "eval_test"
                                                              else "by_op") + [""]
    lines += ["## Commands", "", "```", COMMAND, "```", ""]
    return "\n".join(lines)
