from __future__ import annotations

import json

import pytest

from rag.answer import find_span, trained_prompt_settings
from rag.pipeline import MODES, Pipeline
from rag.prompt import ABSTAIN_ANSWER

TIMINGS = {"retrieve_s", "prompt_s", "generate_s", "total_s"}


def test_rag_answer_has_sources_items_and_timings(tiny_pipeline):
    answer = tiny_pipeline.ask("Who directed Jaws?")
    assert answer.mode == "rag" and not answer.abstained and answer.generator == "tiny-gpt2"
    assert answer.sources[0].title == "Jaws" and answer.sources[0].stage == "title-link"
    assert len(answer.sources) == tiny_pipeline.settings.retrieval.k
    # a linked title: the prompt holds the linked card (and up to linked_context passages in all)
    used = [s.used for s in answer.sources]
    assert used[0] and sum(used) == max(1, tiny_pipeline.settings.prompt.linked_context)
    assert TIMINGS <= set(answer.timings) and answer.timings["total_s"] >= answer.timings["generate_s"]
    assert isinstance(answer.items, list)
    json.dumps(answer.to_dict())  # JSON-serialisable as is


def test_plain_mode_has_no_sources(tiny_pipeline):
    answer = tiny_pipeline.ask("Who directed Jaws?", mode="plain")
    assert answer.mode == "plain" and answer.sources == [] and not answer.abstained


def test_abstains_when_retrieval_is_weak_and_nothing_links(tiny_pipeline):
    answer = tiny_pipeline.ask("How do I bake sourdough bread at home?")
    assert answer.abstained and answer.text == ABSTAIN_ANSWER and answer.items == []
    assert answer.timings["generate_s"] < 0.05  # the generator is not called


def test_a_linked_title_never_abstains(tiny_pipeline, monkeypatch):
    monkeypatch.setattr(tiny_pipeline.settings.answer, "abstain_threshold", 0.99)
    assert not tiny_pipeline.ask("Who directed Jaws?").abstained
    assert tiny_pipeline.ask("Which thriller has a big fish?").abstained


def test_stream_ends_with_the_same_answer_as_ask(tiny_pipeline):
    steps = list(tiny_pipeline.ask_stream("Who directed Inception?"))
    assert all(a is None for _, a in steps[:-1])
    text, answer = steps[-1]
    assert answer is not None and text == answer.text == tiny_pipeline.ask("Who directed Inception?").text
    assert "first_token_s" in answer.timings


def test_ask_batch_keeps_order_and_abstains(tiny_pipeline):
    questions = ["Who directed Jaws?", "How do I bake sourdough bread at home?", "Who wrote Inception?"]
    answers = tiny_pipeline.ask_batch(questions, progress=False)
    assert [a.question for a in answers] == questions
    assert [a.abstained for a in answers] == [False, True, False]
    assert answers[0].sources[0].title == "Jaws"


def test_plot_continues_the_opening(tiny_pipeline):
    text = tiny_pipeline.plot("A lonely robot", genre="Comedy", max_new_tokens=6, seed=1)
    assert text.startswith("A lonely robot")
    with pytest.raises(ValueError, match="mode"):  # plot continuation is its own operation, not a mode of ask
        tiny_pipeline.ask("A lonely robot", mode="plot", max_new_tokens=6, seed=1)
    streamed = list(tiny_pipeline.plot_stream("A lonely robot", max_new_tokens=6, temperature=0.0))
    assert streamed[-1] == tiny_pipeline.plot("A lonely robot", max_new_tokens=6, temperature=0.0)


def test_a_plot_does_not_stop_at_a_newline(tiny_pipeline, monkeypatch):
    seen = []
    monkeypatch.setattr(tiny_pipeline.generator, "generate", lambda prompts, **o: seen.append(o) or ["more"])
    assert tiny_pipeline.plot("A lonely robot") == "A lonely robot more"
    assert seen[0]["stop"] == ()


QUESTIONS = ["Who directed Jaws?", "Who wrote Inception?", "How do I bake sourdough bread at home?",
             "Which thriller has a big fish?", "Who starred in Scarface 1983?", "Who directed The Dark Knight?"]


def _same(a, b) -> bool:
    return (a.question, a.mode, a.text, a.items, a.sources, a.abstained) == (b.question, b.mode, b.text, b.items,
                                                                             b.sources, b.abstained)


@pytest.mark.parametrize("mode", ["rag", "plain"])
def test_ask_is_ask_batch_of_one(tiny_pipeline, mode):
    for question in QUESTIONS:
        assert _same(tiny_pipeline.ask(question, mode=mode), tiny_pipeline.ask_batch([question], mode=mode)[0])
    filters = dict(years=(1970, 1990), genres=["Thriller"])
    assert _same(tiny_pipeline.ask(QUESTIONS[0], mode=mode, **filters),
                 tiny_pipeline.ask_batch([QUESTIONS[0]], mode=mode, **filters)[0])
    batched = tiny_pipeline.ask_batch(QUESTIONS, mode=mode)  # one padded batch answers as one-by-one
    singles = [tiny_pipeline.ask(q, mode=mode) for q in QUESTIONS]
    assert [(a.text, a.items) for a in batched] == [(a.text, a.items) for a in singles]


def test_ask_batch_filters_like_ask(tiny_pipeline):
    answer = tiny_pipeline.ask_batch(["Which film is about a shark?"], years=(2000, 2020))[0]
    assert all(s.year is None or 2000 <= s.year <= 2020 for s in answer.sources if s.kind != "person")
    assert "Jaws" not in {s.title for s in answer.sources}


@pytest.mark.parametrize("mode", ["rag", "plain"])
def test_stream_answer_equals_ask(tiny_pipeline, mode):
    for question in QUESTIONS:
        *steps, (text, streamed) = tiny_pipeline.ask_stream(question, mode=mode)
        assert all(a is None for _, a in steps) and text == streamed.text
        assert _same(streamed, tiny_pipeline.ask(question, mode=mode))
        assert {"first_token_s", *TIMINGS} <= set(streamed.timings)


def test_ask_batch_timings_are_per_question(tiny_pipeline):
    answers = tiny_pipeline.ask_batch(QUESTIONS[:3], progress=False)
    for answer in answers:
        assert TIMINGS <= set(answer.timings)
        parts = sum(answer.timings[k] for k in TIMINGS - {"total_s"})
        assert answer.timings["total_s"] == pytest.approx(parts, abs=1e-3)
    assert answers[2].abstained and answers[2].timings["generate_s"] == 0.0  # the generator was not called for it


def test_modes_are_question_answering_only():
    assert MODES == ("rag", "plain")


def test_bad_input_is_a_clear_error(tiny_pipeline):
    with pytest.raises(ValueError, match="empty"):
        tiny_pipeline.ask("   ")
    with pytest.raises(ValueError, match="mode"):
        tiny_pipeline.ask("Who directed Jaws?", mode="poetry")


def test_a_linked_question_answers_again_when_the_generator_abstains(tiny_pipeline, monkeypatch):
    calls = []

    def fake_generate(prompts, **options):  # abstains unless the abstention's start is suppressed
        calls.append(options.get("suppress_first"))
        return ["Steven Spielberg" if options.get("suppress_first") else ABSTAIN_ANSWER for _ in prompts]

    def fake_stream(prompt, **options):
        yield fake_generate([prompt], **options)[0]

    monkeypatch.setattr(tiny_pipeline.generator, "generate", fake_generate)
    monkeypatch.setattr(tiny_pipeline.generator, "stream", fake_stream)
    answer = tiny_pipeline.ask("Who directed Jaws?")
    assert (answer.text, answer.abstained, answer.items) == ("Steven Spielberg", False, ["Steven Spielberg"])
    assert calls == [None, tiny_pipeline._abstention_start()]
    linked, unlinked = tiny_pipeline.ask_batch(["Who directed Jaws?", "Who directed Inception?"])
    assert not linked.abstained and not unlinked.abstained
    *_, (text, streamed) = tiny_pipeline.ask_stream("Who directed Jaws?")
    assert text == streamed.text == "Steven Spielberg" and not streamed.abstained  # the retry replaced the abstention

    tiny_pipeline.settings.answer.answer_when_linked = False
    try:  # without the override, a generated abstention is reported as one
        answer = tiny_pipeline.ask("Who directed Jaws?")
    finally:
        tiny_pipeline.settings.answer.answer_when_linked = True
    assert answer.text == ABSTAIN_ANSWER and answer.abstained and answer.items == []


def test_find_span():
    text = "Jaws (1975). Directed by Steven Spielberg."
    assert find_span(text, "steven spielberg", ["steven spielberg"]) == (25, 41)
    assert find_span(text, "Spielberg, Someone", ["Spielberg", "Someone"]) == (32, 41)
    assert find_span(text, "Nobody", ["Nobody"]) is None


def test_swap_index(tiny_pipeline, mem_index, embedder):
    from tests.rag.conftest import _movies, hand_passages, make_index

    small = make_index(hand_passages(_movies()[:2]), embedder)
    tiny_pipeline.swap_index(small)
    assert tiny_pipeline.retriever.index is small
    tiny_pipeline.swap_index(mem_index)


@pytest.fixture(scope="module")
def wikimovies_small(embedder):
    """A small in-memory index of real WikiMovies KB cards: Jaws, Nolan's films and a few others."""
    from core.config import Settings
    from index.passages import build_passages
    from index.sources import read_catalogs
    from tests.conftest import require_shared
    from tests.rag.conftest import make_index

    kb, plots = require_shared("wikimovies", "kb.txt.gz"), require_shared("wikimovies", "plots.txt.gz")
    movies = [m for r in read_catalogs([str(kb), str(plots)], Settings()) for m in r.movies]
    keep = {"Jaws", "Jaws 2", "Scarface", "Taxi Driver", "Alien"}
    chosen = [m for m in movies if m.title in keep or "Christopher Nolan" in m.directors]
    return make_index(build_passages(chosen, Settings()), embedder)


@pytest.fixture(scope="module")
def smollm2_pipeline(wikimovies_small, embedder):
    from core.config import Settings
    from core.models import load_generator

    # the default generator: the fine-tuned adapter if shipped, else SmolLM2
    settings = Settings().with_overrides(progress=False)
    model, tokenizer, spec = load_generator(settings)
    return Pipeline(wikimovies_small, embedder, model, tokenizer, trained_prompt_settings(settings, spec),
                    generator_name=spec.name)


@pytest.mark.integration
def test_smollm2_answers_who_directed_jaws(smollm2_pipeline):
    assert "adapter smollm2-movieqa-lora" in smollm2_pipeline.generator_name  # the shipped default
    answer = smollm2_pipeline.ask("Who directed Jaws?")
    assert "Spielberg" in answer.text
    assert answer.sources[0].title == "Jaws" and answer.sources[0].span is not None
    assert list(smollm2_pipeline.ask_stream("Who directed Jaws?"))[-1][1].text == answer.text


@pytest.mark.integration
def test_smollm2_lists_nolan_films(smollm2_pipeline):
    answer = smollm2_pipeline.ask("Which films did Christopher Nolan direct?")
    nolan = {"following", "memento", "insomnia", "batman begins", "the prestige", "the dark knight", "inception",
             "the dark knight rises", "interstellar", "doodlebug"}
    assert len({i.lower() for i in answer.items} & nolan) >= 2, answer.text
    assert smollm2_pipeline.ask("Who directed Inception?").text.startswith("Christopher Nolan")


def test_trained_prompt_settings_are_applied(tmp_path):
    from core.config import Settings
    from core.models import GeneratorSpec
    from rag.answer import trained_prompt_settings

    (tmp_path / "prompt_settings.json").write_text(json.dumps(
        {"k": 9, "prompt_examples": 0, "max_prompt_tokens": 512, "max_passage_tokens": 100, "max_question_tokens": 48}))
    s = trained_prompt_settings(Settings().with_overrides(prompt_examples=2, k=3),
                                GeneratorSpec("x", "base", adapter=str(tmp_path)))
    p = s.prompt
    assert (p.prompt_examples, p.max_prompt_tokens, p.max_passage_tokens, p.max_question_tokens, s.retrieval.k) == (
        0, 512, 100, 48, 3)
    assert trained_prompt_settings(Settings(), GeneratorSpec("x", str(tmp_path / "none"))) == Settings()


@pytest.mark.integration
def test_default_generator_answers_jaws_from_the_sample_catalog(tmp_path):
    """The README's first-minute experience: the resolved offline generator on data/sample_movies.csv."""
    from core.config import Settings
    from rag.pipeline import load_pipeline

    # builds the index
    pipeline = load_pipeline(Settings().with_overrides(index_dir=str(tmp_path / "sample"), progress=False))
    answer = pipeline.ask("Who directed Jaws?")
    assert answer.text == "Steven Spielberg", answer.text
    assert answer.sources[0].title == "Jaws" and answer.sources[0].span is not None


def test_a_generated_list_names_each_item_once():
    from rag.pipeline import _without_repeats

    assert _without_repeats("The Swan, The Swan, The Country Girl, the swan") == "The Swan, The Country Girl"
    assert _without_repeats("Crime, Inc.") == "Crime, Inc."  # a title with a comma is left whole
