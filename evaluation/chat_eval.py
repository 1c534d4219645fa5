"""Scoring follow-up dialogues (evaluation.dialogues) through the chat's memory (rag.conversation).

Every dialogue is one Conversation; turn t of all dialogues is answered in one batch (`ask_batch`), then each
answer is remembered, so the chat sees exactly what a user's chat would. A turn is right when its first answer
item is a gold answer (hits@1). A topic change is also checked for being answered *about the new film*: the
question was not rewritten, and the plan's topic or the first cited card is that film.

Two answerers: the full pipeline (rag.pipeline: planner, retrieval, generator; heavy) and `PlanAnswerer`, the
planner and exact execution alone (no generator; seconds), which measures the rewriting and the plans.
"""
from __future__ import annotations

import csv
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from core.records import normalize
from evaluation.dialogues import Dialogue, write_dialogues
from evaluation.metrics import any_hit, hits_at_1
from rag.answer import Answer, Source
from rag.conversation import Conversation

TARGETS = {"follow-up": 0.90, "topic-change": 0.98}  # issue 15: follow-up hits@1, topic changes about the new film
ROLES = ("first", "follow-up", "topic-change")


class PlanAnswerer:
    """Answers with the planner and exact execution only: a confident exact plan's computed answers, else nothing
    (what the generator would have to answer from passages). The same `retriever` and `ask_batch` as a Pipeline.

    Args:
        evidence: a rag.evidence.Evidence with a planner and a catalog store.
    """

    def __init__(self, evidence) -> None:
        self.evidence, self.retriever, self.planner = evidence, evidence.retriever, evidence.planner

    @classmethod
    def load(cls, settings, index_dir: str) -> PlanAnswerer:
        from core.models import load_embedder  # deferred: heavy (torch)
        from index.catalog import Catalog
        from index.store import load_index
        from rag.evidence import Evidence
        from rag.planner import load_planner
        from rag.retrieve import Retriever

        index, embedder = load_index(index_dir, settings), load_embedder(settings=settings)
        retriever = Retriever(index, embedder, settings)
        return cls(Evidence(retriever, settings, load_planner(settings, embedder), Catalog.open(index_dir)))

    def ask_batch(self, questions: list[str], progress: bool = False) -> list[Answer]:
        out = []
        for question, found in zip(questions, self.evidence(questions)):
            plan, run = found.plan, found.execution
            info = None if plan is None else {**plan.to_dict(), "executed": run is not None}
            if run is not None:
                info.update(answers=run.answers, missing=run.missing, steps=run.steps)
            items = list(run.answers) if run is not None and not run.missing else []
            sources = [Source(h.passage.title, h.passage.year, h.passage.kind, h.passage.text, h.score, h.stage,
                              key=h.passage.key) for h in found.hits]
            out.append(Answer(question, "rag", ", ".join(items), items, sources, not items, {}, "plan-only", info))
        return out


@dataclass
class TurnResult:
    dialogue: str
    kind: str
    turn: int
    role: str
    question: str
    resolved: str  # what was answered ("" when not rewritten)
    gold: list[str]
    answer: str
    hit: float  # hits@1
    any_hit: float
    about_topic: float  # answered about the turn's own film (not rewritten onto an earlier one)
    plan: str


def run_dialogues(answerer, dialogues: list[Dialogue], out_dir: str | None = None, meta: dict | None = None) -> dict:
    """Answer every dialogue turn by turn through a Conversation each; score; write the report when `out_dir`.

    Returns:
        The report: per role (and per dialogue kind) turns, hits@1, any-hit, about-topic rates; the targets; timing.
    """
    chats = [Conversation(answerer) for _ in dialogues]
    results: list[TurnResult] = []
    start = time.perf_counter()
    resolve_s = 0.0
    for t in range(max((len(d.turns) for d in dialogues), default=0)):
        live = [i for i, d in enumerate(dialogues) if t < len(d.turns)]
        clock = time.perf_counter()
        resolutions = [chats[i].resolve(dialogues[i].turns[t].question) for i in live]
        resolve_s += time.perf_counter() - clock
        answers = answerer.ask_batch([r.text for r in resolutions], progress=False)
        for i, resolution, answer in zip(live, resolutions, answers):
            chats[i].remember(resolution, answer)
            results.append(_score(dialogues[i], t, answer))
    report = summarize(results)
    report.update(seconds=round(time.perf_counter() - start, 1), dialogues=len(dialogues),
                  resolve_ms_per_turn=round(1000 * resolve_s / max(1, len(results)), 3), **(meta or {}))
    if out_dir:
        write_report(report, results, dialogues, out_dir)
    return report


def _score(dialogue: Dialogue, t: int, answer) -> TurnResult:
    turn = dialogue.turns[t]
    items = list(answer.items or [])
    plan = answer.plan or {}
    return TurnResult(dialogue.id, dialogue.kind, t + 1, turn.role, turn.question, answer.resolved_question or "",
                      turn.answers, answer.text, hits_at_1(items, turn.answers, answer.text),
                      any_hit(answer.text, turn.answers), _about(answer, turn.topic), plan.get("text", ""))


def _about(answer, topic: str) -> float:
    """1.0 when the answer is about `topic`: its plan's topic, else its first cited card, is that film (or person)."""
    want = normalize(topic)
    topics = [normalize(t["name"]) for t in (answer.plan or {}).get("topics") or []]
    if topics:
        return float(want in topics)
    cited = [s for s in answer.sources if getattr(s, "used", True)]
    return float(bool(cited) and normalize(cited[0].title) == want)


def summarize(results: list[TurnResult]) -> dict:
    def rates(rows: list[TurnResult]) -> dict:
        n = len(rows)
        return {"turns": n, "hits@1": _mean([r.hit for r in rows]), "any_hit": _mean([r.any_hit for r in rows]),
                "about_topic": _mean([r.about_topic for r in rows if r.role != "follow-up"]),  # a follow-up's
                # topic is the earlier turn's (or "the director of F"): checked by its answer instead
                "rewritten": _mean([float(bool(r.resolved)) for r in rows])}

    by_role = {role: rates([r for r in results if r.role == role]) for role in ROLES}
    kinds: dict[str, list[TurnResult]] = defaultdict(list)
    for r in results:
        if r.role == "follow-up":
            kinds[r.kind].append(r)
    follow, change = by_role["follow-up"], by_role["topic-change"]
    topic_ok = [r.about_topic * (not r.resolved) for r in results if r.role == "topic-change"]
    return {"by_role": by_role, "by_kind": {k: rates(v) for k, v in sorted(kinds.items())},
            "targets": {"follow-up hits@1": {"value": follow["hits@1"], "target": TARGETS["follow-up"],
                                             "met": _met(follow["hits@1"], TARGETS["follow-up"])},
                        "topic change answered about the new film": {
                            "value": _mean(topic_ok), "target": TARGETS["topic-change"],
                            "met": _met(_mean(topic_ok), TARGETS["topic-change"])},
                        "topic change hits@1": {"value": change["hits@1"]}}}


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _met(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target


def markdown(report: dict) -> str:
    lines = ["| turns | n | hits@1 | any-hit | about its topic | rewritten |", "|---|---|---|---|---|---|"]
    for name, r in [*report["by_role"].items(), *((f"{k} (follow-ups)", v) for k, v in report["by_kind"].items())]:
        lines.append(f"| {name} | {r['turns']} | {_fmt(r['hits@1'])} | {_fmt(r['any_hit'])} | "
                     f"{_fmt(r['about_topic'])} | {_fmt(r['rewritten'])} |")
    lines.append("")
    for name, t in report["targets"].items():
        target = f" (target ≥ {t['target']:.2f}: {'met' if t['met'] else 'not met'})" if "target" in t else ""
        lines.append(f"- {name}: {_fmt(t['value'])}{target}")
    lines.append(f"- {report['dialogues']} dialogues in {report['seconds']} s; rewriting "
                 f"{report['resolve_ms_per_turn']} ms per turn")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def write_report(report: dict, results: list[TurnResult], dialogues: list[Dialogue], out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "report.md").write_text(markdown(report) + "\n", encoding="utf-8")
    write_dialogues(dialogues, out / "dialogues.jsonl")
    with open(out / "per_turn.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(TurnResult.__dataclass_fields__))
        for r in results:
            row = [getattr(r, name) for name in TurnResult.__dataclass_fields__]
            writer.writerow(["|".join(v) if isinstance(v, list) else v for v in row])
