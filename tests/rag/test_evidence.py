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
    "Tell me about Jaws": ('describe film:"Jaws"', 0.95),
    "films like Inception": ('recommend film:"Inception"', 0.95),
    "which film has a shark hunted by a police chief?": ("identify", 0.95),
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
    assert answer.sources[0].key == "card:jaws (1975)"
    # the tiny random generator cannot state the computed answer, so the answer falls back to it
    assert answer.written_by == "template" and answer.text == "Steven Spielberg" and not answer.abstained
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


def test_a_computed_result_is_checked_before_anything_is_streamed(planned):
    # the tiny model's wording never states "3 films", so the guard swaps in the result: no wrong text may show first
    steps = list(planned.ask_stream("How many Christopher Nolan films are there?"))
    assert [text for text, _ in steps] == [steps[-1][1].text] * len(steps)


def test_batched_and_single_planned_answers_agree(planned):
    questions = list(PLANS)
    batch = planned.ask_batch(questions)
    assert [a.text for a in batch] == [planned.ask(q).text for q in questions]


def _planned_retrieval(planned, question):
    return planned.evidence([question])[0]


@pytest.mark.parametrize(("question", "said", "states"), [
    ("Who directed Jaws?", "Steven Spielberg", True),
    ("Who directed Jaws?", "steven spielberg", True),
    ("Who directed Jaws?", "Steven Spielberg, Christopher Nolan", False),  # an item the catalog did not give
    ("Who directed Jaws?", "Jaws", False),  # the topic film copied instead of the answer
    ("How many Christopher Nolan films are there?", "The catalog has 2 films directed by Christopher Nolan.", True),
    ("How many Christopher Nolan films are there?", "The catalog has 3 films directed by Christopher Nolan.", False),
    ("Which is older, Scarface 1932 or Inception?", "Scarface is older than Inception.", True),
    ("Which is older, Scarface 1932 or Inception?", "Inception (2010) is older than Scarface.", False),
])
def test_a_generated_answer_must_state_the_computed_result(planned, question, said, states):
    retrieval = _planned_retrieval(planned, question)
    assert retrieval.fallback and retrieval.states(said) is states


def test_a_field_the_catalog_lacks_is_named_not_invented(mem_index, embedder, tiny_model, rag_settings):
    model, tokenizer = tiny_model
    plans = {"Who composed the score of Jaws?": ('lookup film:"Jaws" > rating', 0.48),  # a misplan, still declined
             "Who directed The Producers?": ('lookup film:"The Producers" > director', 0.99)}
    pipeline = Pipeline(mem_index, embedder, model, tokenizer, rag_settings, generator_name="tiny-gpt2",
                        planner=FakePlanner(plans, threshold=0.4), catalog=Catalog.from_movies(_movies()))
    answer = pipeline.ask("Who composed the score of Jaws?")
    assert answer.text == "The catalog has no composer credits." and answer.abstained
    assert answer.written_by == "template" and answer.sources == []
    titled = pipeline.ask("Who directed The Producers?")  # a title naming a field asks nothing about it
    assert "producer credits" not in titled.text


def test_a_surely_off_topic_question_is_declined_with_what_the_catalog_covers(planned, rag_settings):
    declined = planned.ask("What is the capital of France?")  # FakePlanner: off_topic at 0.1 → not sure enough
    assert declined.plan["op"] == "off_topic" and not declined.text.startswith("I can only answer")
    planned.evidence.planner.plans["What is the capital of France?"] = ("off_topic", 0.95)
    declined = planned.ask("What is the capital of France?")
    assert declined.text.startswith(f"I can only answer questions about the {len(_movies())} films in this catalog")
    assert "directors" in declined.text and declined.abstained and declined.sources == []


def test_exact_answer_items_are_the_catalogs_own_values(planned):
    retrieval = _planned_retrieval(planned, "Who directed Jaws?")
    assert retrieval.stated_answers("Steven Spielberg.") == ["Steven Spielberg"]
    assert retrieval.stated_answers("steven spielberg, Steven Spielberg") == ["Steven Spielberg"]
    count = _planned_retrieval(planned, "How many Christopher Nolan films are there?")
    assert count.stated_answers("The catalog has 2 films directed by Christopher Nolan.") == ["2"]


def test_an_unsure_plan_about_a_film_nothing_links_to_says_it_is_absent(planned):
    planned.evidence.planner.plans["Which screenwriter wrote Decision to Leave?"] = (
        'lookup film:"Decision to Leave" > writer', 0.36)  # unsure: below the accepting threshold
    absent = planned.ask("Which screenwriter wrote Decision to Leave?")
    assert absent.text == "Decision to Leave is not in the catalog." and absent.abstained
    # an unsure plan about a film the catalog holds still takes the hybrid retrieval path
    assert not planned.ask("Who wrote Jaws?").plan["executed"]


@pytest.mark.parametrize(("question", "first_item", "long"), [
    ("Tell me about Jaws", "Jaws (1975)", True),
    ("films like Inception", "The Dark Knight (2008)", True),
    ("which film has a shark hunted by a police chief?", "Jaws (1975)", False),
])
def test_open_operations_answer_from_their_evidence(planned, monkeypatch, question, first_item, long):
    calls = []
    generate = planned.generator.generate
    monkeypatch.setattr(planned.generator, "generate", lambda prompts, **o: calls.append(o) or generate(prompts, **o))
    answer = planned.ask(question)
    assert answer.plan["executed"] and answer.items[0] == first_item and not answer.abstained
    assert {s.stage for s in answer.sources} == {Stage.PLAN}
    # the tiny generator's words are not grounded: the answer written from the data stands in
    assert answer.written_by == "template" and answer.text.startswith(first_item if not long else answer.text[:5])
    assert (calls[0].get("stop") == ("\n\n",)) is long  # descriptions and lists do not stop at a newline


def test_a_grounded_open_answer_is_kept(planned):
    retrieval = _planned_retrieval(planned, "Tell me about Jaws")
    written = retrieval.fallback
    assert retrieval.states(written)  # the data's own description passes its check
    assert not retrieval.states("Jaws (1975) is a thriller film directed by Steven Spielberg.")  # no plot sentence
    assert not retrieval.states(written.replace("Robert Shaw", "Sean Connery"))  # an invented name
    films = _planned_retrieval(planned, "films like Inception")
    assert films.states(films.fallback) and not films.states("Films like Inception (2010): Jaws (1975).")
    one_line = f"Films like Inception (2010): {', '.join(films.execution.answers)}."
    assert not films.states(one_line)  # the films without their reasons


def test_identify_keeps_only_an_answer_naming_the_search_s_first_film(planned):
    retrieval = _planned_retrieval(planned, "which film has a shark hunted by a police chief?")
    first, second = retrieval.execution.facts[:2]
    assert retrieval.states(f"{first.title} ({first.year})")
    assert not retrieval.states(f"{second.title} ({second.year})")  # another shown film: the search's first instead
    assert retrieval.stated_answers(f"{second.title} or {first.title}") == [
        f"{second.title} ({second.year})", f"{first.title} ({first.year})"]
    assert not retrieval.states("Vertigo (1958)")  # a film the search did not show


def test_a_film_dated_to_a_year_the_catalog_lacks_is_named_absent(mem_index, embedder, tiny_model, rag_settings):
    model, tokenizer = tiny_model
    plans = {"What year did the 1985 film Jaws come out?": ('lookup film:"Jaws" (1975) > year | year=1985..1985', 0.9),
             "Who directed the 1975 film Jaws?": ('lookup film:"Jaws" (1975) > director | year=1975..1975', 0.9),
             "films like Jaws from 1975": ('recommend film:"Jaws" (1975) | year=1975..1975', 0.9)}
    pipeline = Pipeline(mem_index, embedder, model, tokenizer, rag_settings, generator_name="tiny-gpt2",
                        planner=FakePlanner(plans), catalog=Catalog.from_movies(_movies()))
    absent, present, liked = pipeline.ask_batch(list(plans))
    assert absent.text == "Jaws (1985) is not in the catalog." and absent.abstained
    assert present.items == ["Steven Spielberg"] and not present.abstained
    assert not liked.text.endswith("is not in the catalog.")  # a recommendation's year constrains the films


def test_a_computed_result_line_gets_room_to_be_written_whole(planned, monkeypatch):
    calls = []
    generate = planned.generator.generate
    monkeypatch.setattr(planned.generator, "generate", lambda prompts, **o: calls.append(o) or generate(prompts, **o))
    planned.ask("Which is older, Scarface 1932 or Inception?")
    assert calls[0]["max_new_tokens"] == planned.settings.decoding.long_max_new_tokens // 2
    assert calls[0].get("stop") is None  # still one line: the default stop at a newline


def test_a_longer_name_than_the_linked_title_is_named_as_absent(mem_index, embedder, tiny_model, rag_settings):
    model, tokenizer = tiny_model
    plans = {"Who directed Jaws 2?": ('lookup film:"Jaws" > director', 0.99),
             "Who directed That Jaws Thing?": ('lookup film:"Jaws" > director', 0.99),
             "Who directed Jaws?": ('lookup film:"Jaws" > director', 0.99)}
    pipeline = Pipeline(mem_index, embedder, model, tokenizer, rag_settings, generator_name="tiny-gpt2",
                        planner=FakePlanner(plans), catalog=Catalog.from_movies(_movies()))
    sequel = pipeline.ask("Who directed Jaws 2?")
    assert sequel.text == "Jaws 2 is not in the catalog." and sequel.abstained and sequel.written_by == "template"
    assert pipeline.ask("Who directed That Jaws Thing?").text == "That Jaws Thing is not in the catalog."
    assert pipeline.ask("Who directed Jaws?").items == ["Steven Spielberg"]


def test_describe_planned_as_a_tag_lookup_describes_a_film_without_tags(mem_index, embedder, tiny_model,
                                                                         rag_settings):
    model, tokenizer = tiny_model
    plans = {"describe Inception": ('lookup film:"Inception" > tag', 0.99),  # WikiMovies' wording for its tags
             "describe Jaws": ('lookup film:"Jaws" > tag', 0.99)}
    pipeline = Pipeline(mem_index, embedder, model, tokenizer, rag_settings, generator_name="tiny-gpt2",
                        planner=FakePlanner(plans), catalog=Catalog.from_movies(_movies()))
    described = pipeline.ask("describe Inception")  # no tags: the description, not "no tag"
    assert described.plan["op"] == "describe" and not described.abstained
    assert described.text.startswith("Inception (2010) is a") and described.written_by == "template"
    assert pipeline.ask("describe Jaws").items == ["shark"]  # tags: WikiMovies' answer


def test_an_unsure_off_topic_guess_its_passages_do_not_ground_is_declined(planned, monkeypatch):
    said = {"text": "The square root of 1089 is 108."}
    monkeypatch.setattr(planned.generator, "generate", lambda prompts, **kw: [said["text"]] * len(prompts))
    monkeypatch.setattr(planned, "_abstains", lambda retrieval: False)  # the weak-retrieval abstention: not here
    guess = planned.ask("What is the square root of 1089?")  # FakePlanner: off_topic at 0.1, so it is searched
    assert guess.abstained and guess.text.startswith("I can only answer") and guess.written_by == "template"
    *_, (streamed, answer) = planned.ask_stream("What is the square root of 1089?")
    assert streamed == guess.text and answer.abstained  # checked before it is shown
    said["text"] = "Jaws"  # grounded, but only the question's own name: it says nothing
    assert planned.ask("Who made that Jaws film?").abstained
    said["text"] = "Steven Spielberg"  # grounded in the linked card of Jaws: it stands
    kept = planned.ask("Who made that Jaws film?")
    assert kept.text == "Steven Spielberg" and not kept.abstained and kept.plan["op"] == "off_topic"
