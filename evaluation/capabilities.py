"""Capability evaluation: the identify, describe, recommend and abstain sets of `python -m training capability-data`
answered by the pipeline (`Pipeline.ask_batch`) and scored per answer (evaluation.capability_scores).

    python -m rag eval-capabilities --index DIR --questions DIR --capability identify|describe|recommend|abstain
                                    [--split test] [--n N] [--seed N] [--out report.json] [--baseline report.json]

The report holds every metric's mean with a bootstrap 95% CI, the same by phrasing group, for the held-out group
against the groups training saw, and by kind (abstain kinds, recommend constraint kinds, identify forms), plus one
row per question. With a baseline report of the same questions, B − A per metric with paired-bootstrap CIs.
"""
from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from pathlib import Path

from core.config import Settings
from core.errors import QuestionsError
from evaluation import capability_scores as S
from evaluation import metrics as M

CAPABILITIES = ("identify", "describe", "recommend", "abstain")
METRICS = {
    "identify": ["first_title_right", "any_item_right", "title_in_text", "plot_recall@1", "plot_recall@k",
                 "plot_mrr", "abstained"],
    "describe": ["bertscore_f1", "bertscore_f1_rescaled", "support_share", "supported_answer", "beyond_card",
                 "sentences", "mentions_title", "cites_film", "abstained"],
    "recommend": ["items", "valid_share", "all_valid", "related_share", "related_strict_share", "shares_genre",
                  "shares_person", "shares_tag", "shares_neighbour", "constraint_share", "abstained"],
    "abstain": ["correct", "declined"],
}
GROUP_METRICS = {"identify": ("first_title_right", "any_item_right"), "describe": ("bertscore_f1", "beyond_card"),
                 "recommend": ("valid_share", "related_share"), "abstain": ("correct",)}


# ---------------------------------------------------------------- questions

def read_capability(path: str | Path, capability: str, split: str = "test") -> list[dict]:
    """The records of one capability: `path` is the folder `capability-data` wrote (its {capability}_{split}.jsonl)
    or one such file.

    Raises:
        QuestionsError: an unknown capability, no such file, or records of another capability.
    """
    if capability not in CAPABILITIES:
        raise QuestionsError(f"unknown capability {capability!r} (choose from {', '.join(CAPABILITIES)})")
    file = Path(path) / f"{capability}_{split}.jsonl" if Path(path).is_dir() else Path(path)
    if not file.is_file():
        raise QuestionsError(f"{file} not found; write the sets with `python -m training capability-data --out DIR`")
    with open(file, encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    other = next((r.get("capability") for r in records if r.get("capability") != capability), None)
    if other is not None or not records:
        raise QuestionsError(f"{file} holds {other or 'no'} questions, not {capability}")
    return records


def sample(records: list[dict], n: int | None, seed: int = 42) -> list[dict]:
    """Up to n records, seeded, spread evenly over the (group, kind) strata; file order kept."""
    if not n or n >= len(records):
        return list(records)
    strata: dict[tuple, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        strata[(r.get("group"), r.get("kind"))].append(i)
    rng = random.Random(seed)
    queues = [rng.sample(ids, len(ids)) for _, ids in sorted(strata.items(), key=lambda kv: str(kv[0]))]
    rng.shuffle(queues)  # a small n leaves out random strata, not the last ones
    chosen: list[int] = []
    while len(chosen) < n:
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop())
    return [records[i] for i in sorted(chosen)]


# ---------------------------------------------------------------- scoring

def score_all(capability: str, records: list[dict], answers: list, catalog=None, neighbours=None,
              bertscore=None, checker=None) -> list[dict]:
    """One row per answer: the capability's scores plus what the answer was (text, items, abstained, sources).

    Args:
        catalog: index.catalog.Catalog (recommend).
        neighbours: film id → its plot neighbours (recommend; capability_scores.PlotNeighbours).
        bertscore: an evaluation.bertscore.BertScore (describe; None leaves BERTScore out).
        checker: (claims, unsupported_claims, name) for describe (default capability_scores.support_checker()).
    """
    if capability == "recommend":
        scorer = S.RecommendScorer(catalog, neighbours)
    checker = checker or S.support_checker()
    rows = []
    for record, answer in zip(records, answers):
        if capability == "identify":
            scores = S.score_identify(record, answer)
            rank = scores["plot_rank"]
            scores |= {"plot_recall@1": float(rank == 1), "plot_recall@k": float(rank is not None),
                       "plot_mrr": 1.0 / rank if rank else 0.0}
        elif capability == "describe":
            scores = S.score_describe(record, answer, checker)
        elif capability == "recommend":
            scores = scorer(record, answer)
        else:
            scores = S.score_abstain(record, answer)
        plan = getattr(answer, "plan", None) or {}
        rows.append({"id": record.get("id"), "group": record.get("group"), "held_out": bool(record.get("held_out")),
                     "kind": record.get("kind") or record.get("form"), "question": record["question"],
                     "answer": answer.text, "answer_items": list(getattr(answer, "items", []) or []),
                     "abstained": float(bool(answer.abstained)), "written_by": getattr(answer, "written_by", ""),
                     "plan": plan.get("text"),
                     "sources": [f"{s.title} ({s.year or '?'}) [{s.kind}]" for s in (answer.sources or [])],
                     **scores})
    if capability == "describe" and bertscore is not None:
        bs = bertscore.score([a.text or "" for a in answers], [r.get("overview") or [] for r in records])
        for i, row in enumerate(rows):
            row["bertscore_f1"] = bs["F"][i]
            row["bertscore_f1_rescaled"] = bs["F_rescaled"][i] if bs["F_rescaled"] is not None else None
    return rows


# ---------------------------------------------------------------- summaries

def _mean(rows: list[dict], key: str) -> float | None:
    return M.mean_or_none([r.get(key) for r in rows])


def _with_ci(rows: list[dict], key: str, settings: Settings) -> dict:
    values = [float(r[key]) for r in rows if r.get(key) is not None]
    boot = M.paired_bootstrap(values, [0.0] * len(values), settings.eval.bootstrap_resamples, settings.run.seed)
    return {"mean": boot["delta"], "ci_low": boot["ci_low"], "ci_high": boot["ci_high"], "n": len(values)}


def summarize(capability: str, rows: list[dict], settings: Settings, records: list[dict] | None = None) -> dict:
    """Overall means with CIs, and means by group, held-out vs seen groups, and kind."""
    keys = METRICS[capability]
    overall = {key: _with_ci(rows, key, settings) for key in keys}
    if capability == "abstain":
        absent = [r for r in rows if r["kind"] != "control"]
        overall["correct_abstention"] = _with_ci(absent, "declined", settings)
        overall["false_abstention"] = _with_ci([r for r in rows if r["kind"] == "control"], "declined", settings)
    if capability == "recommend":
        topics = [r["topic"]["id"] for r in records] if records else [r["id"] for r in rows]
        overall["distinct_lists"] = {"mean": S.distinct_lists(rows, topics), "n": len(set(topics))}

    def block(part: list[dict]) -> dict:
        return {"n": len(part)} | {key: _mean(part, key) for key in keys}

    by_group = {g: block([r for r in rows if r["group"] == g]) for g in sorted({r["group"] for r in rows})}
    held = {"held-out": block([r for r in rows if r["held_out"]]),
            "seen": block([r for r in rows if not r["held_out"]])}
    kinds = sorted({r["kind"] for r in rows if r["kind"]})
    return {"capability": capability, "n": len(rows), "overall": overall, "by_group": by_group,
            "held_out_vs_seen": held, "by_kind": {k: block([r for r in rows if r["kind"] == k]) for k in kinds}}


def compare_rows(rows_a: list[dict], rows_b: list[dict], capability: str, settings: Settings) -> dict:
    """B − A per metric on the questions both runs answered (paired by id and question), paired-bootstrap CIs."""
    a = {(r["id"], r["question"]): r for r in rows_a}
    pairs = [(a[(r["id"], r["question"])], r) for r in rows_b if (r["id"], r["question"]) in a]
    if not pairs:
        raise QuestionsError("the baseline report shares no questions with this run")
    out: dict = {"n": len(pairs)}
    for key in METRICS[capability]:
        both = [(x[key], y[key]) for x, y in pairs if x.get(key) is not None and y.get(key) is not None]
        if both:
            xs, ys = zip(*both)
            out[key] = M.paired_bootstrap(list(ys), list(xs), settings.eval.bootstrap_resamples, settings.run.seed)
    return out


# ---------------------------------------------------------------- running

def run_capability(pipeline, records: list[dict], capability: str, settings: Settings, neighbours: int = 50,
                   bertscore_model: str | None = None, meta: dict | None = None) -> dict:
    """Answer the records with `pipeline.ask_batch` (rag mode), score them and summarise.

    Args:
        pipeline: a rag.pipeline.Pipeline (its index and catalog serve the recommend scorer).
        records: capability records (read_capability, sample).
        capability: one of CAPABILITIES.
        settings: progress, bootstrap resamples, seed, BERTScore model.
        neighbours: plot neighbours per topic film (recommend).
        bertscore_model: see evaluation.bertscore.resolve_bertscore (describe).
        meta: extra fields for the report's meta.

    Returns:
        summarize()'s report with "meta" and "per_question".
    """
    start = time.perf_counter()
    answers = pipeline.ask_batch([r["question"] for r in records], mode="rag", progress=settings.run.progress)
    seconds = time.perf_counter() - start
    catalog = near = scorer = None
    if capability == "recommend":
        from index.catalog import Catalog  # deferred: only recommend needs it

        catalog = getattr(pipeline, "catalog", None) or Catalog.open(settings.index.index_dir)
        near = S.PlotNeighbours(pipeline.index.passages, pipeline.index.vectors, neighbours)
    if capability == "describe":
        from evaluation.bertscore import BertScore, resolve_bertscore  # deferred: heavy (bert_score, torch)

        scorer = BertScore(resolve_bertscore(settings, bertscore_model), progress=settings.run.progress)
    checker = S.support_checker()
    rows = score_all(capability, records, answers, catalog, near, scorer, checker)
    report = summarize(capability, rows, settings, records)
    manifest = getattr(getattr(pipeline, "index", None), "manifest", None) or {}
    report["meta"] = (meta or {}) | {
        "generator": getattr(pipeline, "generator_name", None), "index_movies": manifest.get("movies"),
        "seconds": round(seconds, 1), "s_per_answer": round(seconds / max(1, len(records)), 3),
        "seed": settings.run.seed, "bootstrap_resamples": settings.eval.bootstrap_resamples,
        "support_checker": checker[2] if capability == "describe" else None,
        "bertscore": scorer.hash if scorer is not None else None,
        "neighbours": neighbours if capability == "recommend" else None,
        "created": time.strftime("%Y-%m-%d %H:%M:%S")}
    report["per_question"] = rows
    return report


# ---------------------------------------------------------------- the table

def _fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown(report: dict) -> str:
    """The overall metrics with CIs, then held-out vs seen, by group and by kind."""
    cap = report["capability"]
    lines = [f"{cap}: {report['n']} questions", "", "| metric | mean | 95% CI | n |", "|---|---|---|---|"]
    for key, m in report["overall"].items():
        ci = f"[{_fmt(m.get('ci_low'))}, {_fmt(m.get('ci_high'))}]" if "ci_low" in m else ""
        lines.append(f"| {key} | {_fmt(m['mean'])} | {ci} | {m['n']} |")
    keys = GROUP_METRICS[cap] + (("declined",) if cap == "abstain" else ())
    for title, block in (("phrasings", report["held_out_vs_seen"]), ("group", report["by_group"]),
                         ("kind", report["by_kind"])):
        if not block:
            continue
        lines += ["", f"| {title} | n | " + " | ".join(keys) + " |", "|---" * (len(keys) + 2) + "|"]
        lines += [f"| {name} | {b['n']} | " + " | ".join(_fmt(b.get(k)) for k in keys) + " |"
                  for name, b in block.items()]
    if "vs_baseline" in report:
        base = report["vs_baseline"]
        lines += ["", f"B − A vs {base['baseline']} ({base['n']} shared questions)", "",
                  "| metric | B − A | 95% CI |", "|---|---|---|"]
        lines += [f"| {k} | {_fmt(v['delta'])} | [{_fmt(v['ci_low'])}, {_fmt(v['ci_high'])}] |"
                  for k, v in base.items() if isinstance(v, dict)]
    return "\n".join(lines)
