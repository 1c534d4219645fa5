"""Training examples in the planner's evidence format: the plan runs on the catalog store (rag.execute) and its
fact lines are the prompt's passages, exactly as rag.evidence puts them in the prompt at inference.

The questions come from `python -m training plan-data` (questions_dev.jsonl: question, gold plan, template group).
Targets: a lookup's answer items joined as the generator answers ("Ridley Scott, Dan O'Bannon"); a count,
superlative, comparison or yes/no check's result line, which states what was computed, so the generator learns to
word the computed result and never to count or compare itself. Plans the catalog cannot answer ("… is not in the
catalog") are left out: the pipeline states those itself.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

from tqdm.auto import tqdm

from core.config import Settings
from core.errors import DataError, PlanError
from evaluation.metrics import normalize_answer
from rag.evidence import fact_hits
from rag.execute import Executor
from rag.plan import Op, parse_plan
from rag.prompt import build_rag_prompt, format_answer
from training.examples import completion_for, make_example

KIND = "rag-plan"
COMPUTED = (Op.COUNT, Op.ARGMAX, Op.ARGMIN, Op.TOP, Op.CHECK)  # answered by stating the result line


def read_plan_questions(paths: list[str]) -> list[dict]:
    """Rows of planner question files (JSONL with at least question, plan, group)."""
    rows = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                rows += [json.loads(line) for line in handle if line.strip()]
        except (OSError, json.JSONDecodeError) as exc:
            raise DataError(f"cannot read planner questions '{path}': {exc}") from exc
    missing = [r for r in rows if not {"question", "plan"} <= r.keys()]
    if missing:
        raise DataError(f"planner question rows need 'question' and 'plan' (first bad row: {missing[0]})")
    return rows


def target_of(op: Op, execution) -> str:
    """What the generator should answer from the fact lines."""
    if op in COMPUTED:
        return execution.facts[0].text
    return format_answer(execution.answers)


def plan_examples(rows: list[dict], catalog, tokenizer, settings: Settings, limit: int | None, seed: int,
                  guard=None, progress: bool = False) -> tuple[list[dict], Counter]:
    """Examples (kind "rag-plan") for up to `limit` rows, ops balanced: each op gets an equal share of the limit
    (the rest goes to lookups).

    Args:
        rows: planner questions (read_plan_questions).
        catalog: the catalog store the plans run on (index.catalog.Catalog), the one the fact lines come from.
        tokenizer, settings: render the pipeline's own RAG prompt.
        limit: examples at most (None = every usable row).
        seed: sampling seed.
        guard: a training.qa_pairs.TestGuard: plans about a benchmark test question's topic entity are left out.

    Returns:
        (examples, skipped rows by reason).
    """
    executor, skipped = Executor(catalog), Counter()
    planned = []
    for row in rows:
        try:
            planned.append((row, parse_plan(row["plan"])))
        except PlanError:
            skipped["unparsable plan"] += 1
    names = {normalize_answer(t.name) for _, plan in planned for t in plan.topics}
    excluded = guard.test_entities(names) if guard is not None else set()
    by_op: dict[str, list[tuple[dict, object]]] = {}
    for row, plan in planned:
        if not plan.exact:
            skipped[f"not exact ({plan.op})"] += 1
        elif any(normalize_answer(t.name) in excluded for t in plan.topics):
            skipped["test entity"] += 1
        else:
            by_op.setdefault(str(plan.op), []).append((row, plan))
    chosen = _balanced(by_op, limit, random.Random(seed))
    examples = []
    for row, plan in tqdm(chosen, desc="rendering plan examples", disable=not progress):
        execution = executor(plan)
        if execution.missing or not execution.facts or not execution.answers:
            skipped["catalog cannot answer"] += 1
            continue
        passages = [hit.passage for hit in fact_hits(execution)]
        prompt, _ = build_rag_prompt(tokenizer, row["question"], passages, settings)
        target = target_of(plan.op, execution)
        source = Path(row.get("source", "plan")).name
        example = make_example(prompt, completion_for(prompt, target), KIND, source=source)
        examples.append({**example, "question": row["question"], "answers": list(execution.answers),
                         "group": row.get("group", row["question"])})
    return examples, skipped


def _balanced(by_op: dict[str, list], limit: int | None, rng: random.Random) -> list:
    """An equal share of the limit per operation (fewer where an operation has fewer rows), lookups fill the rest."""
    if limit is None:
        return [item for items in by_op.values() for item in items]
    share = limit // max(1, len(by_op))
    chosen = []
    for op, items in sorted(by_op.items()):
        if op != str(Op.LOOKUP):
            chosen += rng.sample(items, min(share, len(items)))
    lookups = by_op.get(str(Op.LOOKUP), [])
    chosen += rng.sample(lookups, min(max(0, limit - len(chosen)), len(lookups)))
    rng.shuffle(chosen)
    return chosen
