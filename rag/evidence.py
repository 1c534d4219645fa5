"""Question → evidence for the prompt: exact fact lines when the planner is confident, else hybrid retrieval.

`Evidence` is the retrieve step of the answer flow. For each question it asks the planner (rag.planner) for a
typed plan; a confident plan with an exact operation runs on the catalog store (rag.execute) and its fact lines
become the prompt's passages (stage "plan", each citing its card). Any other question — low confidence, plot
identification, describe, recommend, or no planner shipped — takes the hybrid retrieval path (rag.retrieve), so
nothing regresses where the planner is unsure. Plain mode never comes here: it stays the baseline.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from core.config import Settings
from core.records import Passage, PassageKind, Stage
from rag.execute import Execution, Executor
from rag.plan import Op, Plan
from rag.retrieve import Hit, Retrieval, Retriever


@dataclass
class PlannedRetrieval(Retrieval):
    """A Retrieval that also carries the question's plan and, when it ran exactly, how it ran."""

    plan: Plan | None = None
    execution: Execution | None = None

    @property
    def template(self) -> str | None:
        """The answer filled in rather than generated: what the catalog lacks, or the result line of a count,
        superlative, comparison or yes/no check (the shipped adapter was not trained to word those yet)."""
        if self.execution is None:
            return None
        if self.execution.missing:
            return self.execution.missing
        computed = self.execution.count is not None or self.plan.op in (Op.ARGMAX, Op.ARGMIN, Op.TOP, Op.CHECK)
        if computed and self.execution.facts:  # the result line states what was computed
            return self.execution.facts[0].text
        return None


def fact_hits(execution: Execution) -> list[Hit]:
    """Fact lines as pinned hits, one passage per line, of the kind and key of the card it cites."""
    hits = []
    for fact in execution.facts:
        prefix, _, name = fact.key.partition(":")
        kind = PassageKind(prefix) if prefix else PassageKind.CARD  # a film's card, or a person's / tag's card
        passage = Passage(key=fact.key, kind=kind, title=fact.title or fact.text.split(".")[0], text=fact.text,
                          year=fact.year, movie_id=name if kind == PassageKind.CARD and name else None)
        hits.append(Hit(passage, 1.0, Stage.PLAN))
    return hits


class Evidence:
    """Callable: questions → one Retrieval (PlannedRetrieval when planned) per question, in order.

    Args:
        retriever: the hybrid retriever over the index (also the planner's entity linker).
        settings: every stage's settings.
        planner: a rag.planner.Planner (its `accepts(plan)` says whether a plan is confident enough), or None.
        catalog: the index's catalog store (index.catalog.Catalog), needed with a planner.
    """

    def __init__(self, retriever: Retriever, settings: Settings, planner=None, catalog=None) -> None:
        self.retriever, self.settings, self.planner = retriever, settings, planner
        self.executor = Executor(catalog) if planner is not None and catalog is not None else None

    def __call__(self, questions: list[str], k: int | None = None, years: tuple | None = None,
                 genres: list[str] | None = None) -> list[Retrieval]:
        plans = self.plans(questions)
        out: list[Retrieval | None] = [None] * len(questions)
        searched = []
        for i, plan in enumerate(plans):
            if self._runs_exactly(plan) and not (years or genres):  # the demo's filters: retrieval applies them
                execution = self.executor(plan)
                out[i] = PlannedRetrieval(fact_hits(execution), math.nan, True, plan=plan, execution=execution)
            else:
                searched.append(i)
        found = self.retriever.search_batch([questions[i] for i in searched], k=k, years=years, genres=genres)
        for i, retrieval in zip(searched, found):
            out[i] = PlannedRetrieval(retrieval.hits, retrieval.best_dense, retrieval.linked, retrieval.dense,
                                      plan=plans[i])
        return out

    def plans(self, questions: list[str]) -> list[Plan | None]:
        """The planner's plans (None for every question without a planner)."""
        if self.executor is None:
            return [None] * len(questions)
        return self.planner.plan_batch(questions, self.retriever)

    def _runs_exactly(self, plan: Plan | None) -> bool:
        return plan is not None and plan.exact and self.planner.accepts(plan)
