"""Offline evaluation of RAG against plain answers: accuracy, BERTScore, retrieval, abstention, latency,
paired-bootstrap deltas, written as report.json / report.md / per_question.csv / answers.jsonl / eval.png.

    python -m rag eval --index DIR --questions FILE [--format F] [--limit N] [--stratify] [--per-type N]
                       [--modes rag,plain] [--seed S] --out DIR [--bertscore-model minilm] [--no-progress]
"""
from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path

import numpy as np

from core.config import Settings
from core.errors import QuestionsError
from core.records import Question
from evaluation import metrics as M
from evaluation.bertscore import BertScore, resolve_bertscore

MODES = ("rag", "plain")
SUMMARY_KEYS = ["hits@1", "any_hit", "em", "f1", "bertscore_f1", "bertscore_f1_rescaled", "bertscore_p", "bertscore_r",
                "recall@1", "recall@k", "mrr", "in_prompt", "abstain_rate", "generated_share", "latency_p50_s", "n"]
DELTA_KEYS = ["hits@1", "any_hit", "em", "f1", "bertscore_f1", "bertscore_f1_rescaled"]
PLOT_KEYS = ["hits@1", "any_hit", "f1", "bertscore_f1_rescaled", "recall@k"]


# ---------------------------------------------------------------- modes

def parse_modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise QuestionsError(f"unknown mode(s) {bad or text!r}; use a comma-separated subset of {','.join(MODES)}")
    return list(dict.fromkeys(modes))


# ---------------------------------------------------------------- running and scoring

def answer_all(pipeline, questions: list[Question], mode: str, settings: Settings) -> tuple[list, float]:
    """All answers of one mode, in one `pipeline.ask_batch` call (it batches and shows the progress bar).

    Args:
        pipeline: a rag.pipeline.Pipeline (or anything with its `ask_batch`).
        questions: the questions, in order.
        mode: "rag" or "plain".
        settings: progress bars (`settings.run.progress`).

    Returns:
        (answers in question order, wall seconds they took).
    """
    start = time.perf_counter()
    answers = pipeline.ask_batch([q.question for q in questions], mode=mode, progress=settings.run.progress)
    return answers, time.perf_counter() - start


def _items(answer) -> list[str]:
    if getattr(answer, "abstained", False):
        return []
    items = getattr(answer, "items", None)
    return list(items) if items is not None else [s.strip() for s in (answer.text or "").split(",") if s.strip()]


def score_answer(question: Question, answer, mode: str) -> dict:
    """Answer metrics of one answer, and retrieval metrics in rag mode.

    Args:
        question: the question with its gold answers (and type and entity, for retrieval relevance).
        answer: a pipeline Answer (text, items, sources, abstained, timings).
        mode: "rag" or "plain"; plain answers get rank and in_prompt None.

    Returns:
        {"answer", "hits@1", "any_hit", "em", "f1", "rank" (of the first relevant source, or None),
        "in_prompt", "abstained", "written_by" (generator, template or abstention), "latency_s", "sources"}.
    """
    text, items = answer.text or "", _items(answer)
    sources = list(answer.sources or [])
    rank = M.retrieval_rank(sources, question) if mode == "rag" else None
    in_prompt = M.retrieval_rank([s for s in sources if getattr(s, "used", True)], question) is not None
    return {"answer": text, "hits@1": M.hits_at_1(items, question.answers, text),
            "any_hit": M.any_hit(text, question.answers), "em": M.exact_match(text, question.answers),
            "f1": M.token_f1(text, question.answers), "rank": rank,
            "in_prompt": float(in_prompt) if mode == "rag" else None,
            "abstained": bool(getattr(answer, "abstained", False)),
            "written_by": getattr(answer, "written_by", "generator"),
            "latency_s": float((getattr(answer, "timings", None) or {}).get("total_s", float("nan"))),
            "sources": [f"{getattr(s, 'title', '')} ({getattr(s, 'year', '') or '?'}) [{getattr(s, 'kind', '')}]"
                        for s in sources]}


def summarize(rows: list[dict], mode: str, k: int) -> dict:
    """Mean metrics of one mode over rows (each row holds that mode's scores)."""
    if not rows:
        return {key: None for key in SUMMARY_KEYS} | {"n": 0}
    ranks = [r["rank"] for r in rows]
    out = {key: M.mean_or_none([r[key] for r in rows]) for key in ["hits@1", "any_hit", "em", "f1"]}
    out |= {"bertscore_f1": M.mean_or_none([r.get("bertscore_f1") for r in rows]),
            "bertscore_f1_rescaled": M.mean_or_none([r.get("bertscore_f1_rescaled") for r in rows]),
            "bertscore_p": M.mean_or_none([r.get("bertscore_p") for r in rows]),
            "bertscore_r": M.mean_or_none([r.get("bertscore_r") for r in rows])}
    retrieval = mode == "rag"
    out |= {"recall@1": M.recall_at_k(ranks, 1) if retrieval else None,
            "recall@k": M.recall_at_k(ranks, k) if retrieval else None, "mrr": M.mrr(ranks) if retrieval else None,
            "in_prompt": M.mean_or_none([r["in_prompt"] for r in rows]),
            "abstain_rate": M.mean_or_none([float(r["abstained"]) for r in rows]),
            "generated_share": M.mean_or_none([float(r.get("written_by", "generator") == "generator") for r in rows]),
            "latency_p50_s": M.percentile([r["latency_s"] for r in rows if not math.isnan(r["latency_s"])], 50),
            "n": len(rows)}
    return {key: out[key] for key in SUMMARY_KEYS}


def deltas(scores: dict[str, list[dict]], settings: Settings) -> dict:
    """Paired bootstrap of rag minus plain for the answer metrics."""
    out = {}
    for key in DELTA_KEYS:
        a, b = [r.get(key) for r in scores["rag"]], [r.get(key) for r in scores["plain"]]
        if a and all(v is not None for v in a + b):
            out[key] = M.paired_bootstrap(a, b, settings.eval.bootstrap_resamples, settings.run.seed)
    return out


def run_evaluation(pipeline, questions: list[Question], modes: list[str], out_dir: str | Path, settings: Settings,
                   bertscore_model: str | None = None, meta: dict | None = None) -> dict:
    """Answer every question in every mode, score the answers, and write the report files.

    Args:
        pipeline: a rag.pipeline.Pipeline (its `index.manifest` goes into the report's meta when present).
        questions: the questions, with gold answers.
        modes: a subset of MODES ("rag", "plain"); with both, the report holds rag − plain deltas.
        out_dir: where report.json, report.md, per_question.csv, answers.jsonl and eval.png go (created).
        settings: k (`settings.retrieval`), bootstrap resamples (`settings.eval`), seed and progress (`settings.run`).
        bertscore_model: see `resolve_bertscore`; default `settings.eval.bertscore_model`.
        meta: extra fields for the report's meta (e.g. the questions file).

    Returns:
        The report: per mode the SUMMARY_KEYS means, "delta" (with both modes), "by_type" and "meta".

    Raises:
        ModelUnavailable: the BERTScore model cannot be resolved or loaded.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores: dict[str, list[dict]] = {}
    info: dict[str, dict] = {}
    for mode in modes:
        answers, seconds = answer_all(pipeline, questions, mode, settings)
        scores[mode] = [score_answer(q, a, mode) for q, a in zip(questions, answers)]
        generator = next((getattr(a, "generator", None) for a in answers if getattr(a, "generator", None)), None)
        info[mode] = {"seconds": round(seconds, 2), "s_per_answer": round(seconds / max(1, len(questions)), 3),
                      "generator": generator}
    scorer = BertScore(resolve_bertscore(settings, bertscore_model), progress=settings.run.progress)
    _add_bertscore(scorer, questions, scores)
    k = settings.retrieval.k
    report: dict = {mode: summarize(scores[mode], mode, k) | {"k": k} | info[mode] for mode in modes}
    if "rag" in scores and "plain" in scores:
        report["delta"] = deltas(scores, settings)
    report["by_type"] = _by_type(questions, scores, modes, settings, with_delta="delta" in report)
    manifest = getattr(getattr(pipeline, "index", None), "manifest", None) or {}
    report["meta"] = (meta or {}) | _run_meta(questions, modes, settings, manifest, scorer)
    write_report(report, questions, scores, out_dir)
    return report


def _add_bertscore(scorer: BertScore, questions: list[Question], scores: dict[str, list[dict]]) -> None:
    """BERTScore P/R/F (and rescaled F) of every answer, max over each gold answer and the whole gold list."""
    refs = [q.answers + ([", ".join(q.answers)] if len(q.answers) > 1 else []) for q in questions]
    for rows in scores.values():
        bs = scorer.score([r["answer"] for r in rows], refs)
        for i, row in enumerate(rows):
            row |= {"bertscore_p": bs["P"][i], "bertscore_r": bs["R"][i], "bertscore_f1": bs["F"][i],
                    "bertscore_f1_rescaled": bs["F_rescaled"][i] if bs["F_rescaled"] is not None else None}


def _by_type(questions: list[Question], scores: dict[str, list[dict]], modes: list[str], settings: Settings,
             with_delta: bool) -> dict:
    """Summaries per question type (and rag − plain deltas of hits@1 and BERTScore F1 when both modes ran)."""
    out = {}
    for qtype in sorted({q.type or "unknown" for q in questions}):
        ids = [i for i, q in enumerate(questions) if (q.type or "unknown") == qtype]
        entry = {mode: summarize([scores[mode][i] for i in ids], mode, settings.retrieval.k) for mode in modes}
        if with_delta:
            entry["delta"] = {key: M.paired_bootstrap([scores["rag"][i][key] for i in ids],
                                                      [scores["plain"][i][key] for i in ids],
                                                      settings.eval.bootstrap_resamples, settings.run.seed)
                              for key in ("hits@1", "bertscore_f1")}
        out[qtype] = entry | {"n": len(ids)}
    return out


def _run_meta(questions: list[Question], modes: list[str], settings: Settings, manifest: dict,
              scorer: BertScore) -> dict:
    return {
        "n": len(questions), "modes": modes, "seed": settings.run.seed, "k": settings.retrieval.k,
        "index": settings.index.index_dir, "index_movies": manifest.get("movies"),
        "index_passages": manifest.get("passages"),
        "bertscore": {"model": scorer.spec.name, "num_layers": scorer.spec.num_layers, "baseline": scorer.spec.baseline,
                      "hash": scorer.hash, "hash_rescaled": scorer.hash_rescaled,
                      "references": "each gold answer and the whole gold list; max over references"},
        "bootstrap": {"resamples": settings.eval.bootstrap_resamples, "ci": 0.95},
        "created": time.strftime("%Y-%m-%d %H:%M:%S")}


# ---------------------------------------------------------------- report files

def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def markdown_summary(report: dict) -> str:
    modes = [m for m in MODES if m in report]
    lines = ["| metric | " + " | ".join(modes) + (" | rag − plain [95% CI] |" if "delta" in report else " |"),
             "|---" * (len(modes) + 1 + ("delta" in report)) + "|"]
    for key in SUMMARY_KEYS:
        row = f"| {key} | " + " | ".join(_fmt(report[m].get(key)) for m in modes) + " |"
        d = report.get("delta", {}).get(key)
        if "delta" in report:
            row += f" {_fmt(d['delta'])} [{_fmt(d['ci_low'])}, {_fmt(d['ci_high'])}] |" if d else " |"
        lines.append(row)
    return "\n".join(lines)


def _markdown(report: dict) -> str:
    meta, modes = report["meta"], [m for m in MODES if m in report]
    bs = meta["bertscore"]
    head = [f"# Evaluation: {meta.get('questions_file', '?')}", "",
            f"{meta['n']} questions, modes {', '.join(modes)}, index `{meta['index']}` "
            f"({meta.get('index_movies')} movies, {meta.get('index_passages')} passages), "
            f"k={meta['k']}, seed {meta['seed']}.",
            *(f"- {m}: generator {report[m].get('generator')}, {report[m]['s_per_answer']} s/answer" for m in modes),
            f"- BERTScore: `{bs['hash']}`; rescaled: `{bs['hash_rescaled']}` (baseline "
            f"{bs['baseline'] if bs['hash_rescaled'] else 'none'})",
            f"- Deltas: paired bootstrap, {meta['bootstrap']['resamples']} resamples, 95% percentile CI.", "",
            "## Overall", "", markdown_summary(report), "",
            "hits@1: first answer item is a gold answer; any_hit: a gold answer appears in the answer; em/f1: SQuAD "
            "style, max over gold answers and the whole gold list; recall@k/mrr: rank of the first retrieved passage "
            "of the gold movie (or holding a gold answer with the question's entity); in_prompt: such a passage made "
            "it into the prompt; latency: per answer, batched.", "", "## By question type", ""]
    cols = [(m, key) for m in modes for key in ("hits@1", "any_hit", "bertscore_f1_rescaled")] + \
           ([("rag", "recall@k"), ("rag", "abstain_rate")] if "rag" in modes else [])
    rows = ["| type | n | " + " | ".join(f"{m} {key}" for m, key in cols) + " |", "|---" * (len(cols) + 2) + "|"]
    for qtype, entry in report["by_type"].items():
        rows.append(f"| {qtype} | {entry['n']} | " + " | ".join(_fmt(entry[m][key]) for m, key in cols) + " |")
    return "\n".join(head + rows) + "\n"


def _plot(report: dict, path: Path) -> None:
    import matplotlib  # deferred: heavy

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred: heavy

    modes = [m for m in MODES if m in report]
    types = list(report["by_type"])
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(max(8, 0.7 * len(types) + 3), 8))
    width = 0.8 / len(modes)
    for j, mode in enumerate(modes):
        raw = [report[mode].get(key) for key in PLOT_KEYS]  # None (e.g. recall of plain) → no bar
        bars = ax1.bar(np.arange(len(PLOT_KEYS)) + j * width, [v or 0.0 for v in raw], width, label=mode)
        ax1.bar_label(bars, labels=["" if v is None else f"{v:.2f}" for v in raw], fontsize=7)
        vals = [report["by_type"][t][mode].get("hits@1") or 0.0 for t in types]
        ax2.bar_label(ax2.bar(np.arange(len(types)) + j * width, vals, width, label=mode), fmt="%.2f", fontsize=6)
    ax1.set_xticks(np.arange(len(PLOT_KEYS)) + width * (len(modes) - 1) / 2, PLOT_KEYS)
    ax1.set_title(f"{Path(str(report['meta'].get('questions_file', ''))).name} (n={report['meta']['n']})")
    ax2.set_xticks(np.arange(len(types)) + width * (len(modes) - 1) / 2, types, rotation=35, ha="right")
    ax2.set_title("hits@1 by question type")
    for ax in (ax1, ax2):
        ax.set_ylim(min(0.0, ax.get_ylim()[0]), 1.08)
        ax.legend()
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(report: dict, questions: list[Question], scores: dict[str, list[dict]], out_dir: Path) -> None:
    modes = [m for m in MODES if m in scores]
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    (out_dir / "report.md").write_text(_markdown(report))
    per_mode = ["answer", "hits@1", "any_hit", "em", "f1", "bertscore_f1", "bertscore_f1_rescaled", "rank",
                "in_prompt", "abstained", "written_by", "latency_s"]
    with open(out_dir / "per_question.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "type", "question", "entity", "gold"] + [f"{m}_{c}" for m in modes for c in per_mode])
        for i, q in enumerate(questions):
            writer.writerow([i, q.type or "", q.question, q.entity or "", " | ".join(q.answers)] +
                            [scores[m][i][c] for m in modes for c in per_mode])
    with open(out_dir / "answers.jsonl", "w", encoding="utf-8") as fh:
        for i, q in enumerate(questions):
            for m in modes:
                row = scores[m][i]
                line = {"id": i, "mode": m, "question": q.question, "gold": q.answers, "answer": row["answer"],
                        "rank": row["rank"], "sources": row["sources"]}
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
    _plot(report, out_dir / "eval.png")
