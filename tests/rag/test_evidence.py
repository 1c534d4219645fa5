"""The planned answer path through the Pipeline: a confident exact plan answers from fact lines (or a computed
template), an unsure one falls back to hybrid retrieval, and the answer carries its plan."""
from __future__ import annotations

import pytest

from core.records import Stage
from index.catalog import Catalog
from rag.pipeline import Pipeline
from rag.plan import parse_plan
from tests.rag.conftest import _movies


class FakePlanner:
    """Plans by a question → plan-text table, standing in for the learned planner (tested in test_planner.py)."""

    def __init__(self, plans: dict[str, tuple[str, float]], threshold: float = 0.5) -> None:
        self.plans, self.threshold = plans, threshold

    def plan_batch(self, questions, retriever):
        out = []
        for q in questions:
            text, confidence = self.plans.get(q, ("off_topic", 0.1))
            plan = parse_plan(text)
            plan.confidence = confidence
            out.append(plan)
        return out

    def accepts(self, plan) -> bool:
        return plan.confidence >= self.threshold


PLANS = {
    "Who directed Jaws?": ('lookup film:"Jaws" > director', 0.99),
    "How many Christopher Nolan films are there?": ('count person:"Christopher Nolan" < director', 0.95),
    "Who directed Top Gun: Maverick?": ('lookup film:"Top Gun: Maverick" > director', 0.97),
    "Which is older, Scarface 1932 or Inception?": ('argmin film:"Scarface" (1932), film:"Inception" > year', 0.9),
    "Who wrote Jaws?": ('lookup film:"Jaws" > writer', 0.2),  # unsure: the retriever answers
}


@pytest.fixture
def planned(mem_index, embedder, tiny_model, rag_settings):
    model, tokenizer = tiny_model
    return Pipeline(mem_index, embedder, model, tokenizer, rag_settings, generator_name="tiny-gpt2",
                    planner=FakePlanner(PLANS), catalog=Catalog.from_movies(_movies()))


def test_a_confident_plan_answers_from_fact_lines(planned):
    answer = planned.ask("Who directed Jaws?")
    assert answer.plan["executed"] and answer.plan["text"] == 'lookup film:"Jaws" > director'
    assert [s.stage for s in answer.sources] == [Stage.PLAN]
    assert answer.sources[0].text == "Jaws (1975). Directed by Steven Spielberg."
    assert answer.sources[0].key == "card:jaws (1975)" and answer.written_by == "generator"
    assert answer.to_dict()["plan"]["steps"]  # the JSON answer carries the plan and how it ran


def test_computed_answers_and_what_is_missing_are_filled_in(planned):
    count = planned.ask("How many Christopher Nolan films are there?")
    assert count.text == "The catalog has 2 films directed by Christopher Nolan."
    assert count.items == ["2"] and count.written_by == "template" and not count.abstained
    absent = planned.ask("Who directed Top Gun: Maverick?")
    assert absent.text == "Top Gun: Maverick is not in the catalog." and absent.abstained and absent.items == []
    older = planned.ask("Which is older, Scarface 1932 or Inception?")
    assert older.items == ["Scarface (1932)"] and older.text.startswith("Scarface (1932) is older than Inception")


def test_an_unsure_plan_falls_back_to_retrieval(planned, tiny_pipeline):
    answer = planned.ask("Who wrote Jaws?")
    assert not answer.plan["executed"] and answer.plan["confidence"] == pytest.approx(0.2)
    assert Stage.PLAN not in {s.stage for s in answer.sources}
    baseline = tiny_pipeline.ask("Who wrote Jaws?")  # no planner: the same retrieval and the same answer
    assert [s.key for s in answer.sources] == [s.key for s in baseline.sources] and answer.text == baseline.text


def test_streaming_gives_the_planned_answer_too(planned):
    *_, (text, answer) = list(planned.ask_stream("How many Christopher Nolan films are there?"))
    assert text == answer.text == planned.ask("How many Christopher Nolan films are there?").text


def test_batched_and_single_planned_answers_agree(planned):
    questions = list(PLANS)
    batch = planned.ask_batch(questions)
    assert [a.text for a in batch] == [planned.ask(q).text for q in questions]
