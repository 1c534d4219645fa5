"""rag.pipeline plots: they run on the plot adapter (a weight-sharing view of the answer model) while answers keep
the QA adapter, also when both run at once; without a plot adapter they use the answer generator."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from core.config import Settings
from core.models import load_generator
from rag.generate import Generator
from rag.pipeline import load_pipeline
from rag.prompt import render_plain_prompt, render_plot_prompt
from tests.tiny_adapters import make_lora_adapter

OPENINGS = ["A lonely robot", "Jaws (1975). A shark", "The Godfather directed by", "Inception: a thief"]
QUESTIONS = ["Who directed Jaws?", "Who directed Inception?", "Genre of The Godfather?", "Cast of Jaws?"]
GREEDY = dict(temperature=0.0, max_new_tokens=8)


@pytest.fixture(scope="module")
def adapters(tiny_gpt2_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline_adapters")
    qa = make_lora_adapter(tiny_gpt2_dir, root / "qa", seed=1)
    return qa, make_lora_adapter(tiny_gpt2_dir, root / "plot", seed=2)


def _settings(**overrides) -> Settings:
    return Settings().with_overrides(progress=False, num_threads=1, plot_repetition_penalty=1.0, **overrides)


def _reference(generator: str) -> Generator:
    """A Generator over base + `generator` merged: what the pipeline's answers or plots must equal."""
    settings = _settings(generator=generator)
    model, tokenizer, _ = load_generator(settings)
    return Generator(model, tokenizer, settings)


def test_plots_use_the_plot_adapter_and_answers_the_qa_adapter(adapters):
    qa, plot = adapters
    pipeline = load_pipeline(_settings(generator=str(qa), plot_generator=str(plot)), need_index=False)
    assert pipeline.plot_model() is not pipeline.generator and "plot" in pipeline.plot_generator_name
    plot_ref, qa_ref = _reference(str(plot)), _reference(str(qa))
    s, tok = pipeline.settings, pipeline.tokenizer
    for opening in OPENINGS:
        want = plot_ref.generate([render_plot_prompt(tok, opening, "Drama", s)], stop=(), **GREEDY)[0]
        assert pipeline.plot(opening, genre="Drama", **GREEDY) == f"{opening} {want}".rstrip()
    for question in QUESTIONS:
        want = qa_ref.generate([render_plain_prompt(tok, question, s)], **GREEDY)[0]
        assert pipeline.ask(question, mode="plain", **GREEDY).text == want.rstrip(" ,;")
    qa_plots = [qa_ref.generate([render_plot_prompt(tok, o, "Drama", s)], stop=(), **GREEDY)[0] for o in OPENINGS]
    assert qa_plots != [pipeline.plot(o, genre="Drama", **GREEDY)[len(o):].strip() for o in OPENINGS]


def test_answers_and_plots_at_the_same_time_match_one_at_a_time(adapters):
    qa, plot = adapters
    pipeline = load_pipeline(_settings(generator=str(qa), plot_generator=str(plot)), need_index=False)
    jobs = [("plot", o) for o in OPENINGS] + [("ask", q) for q in QUESTIONS]

    def run(job):
        kind, text = job
        if kind == "plot":
            return pipeline.plot(text, genre="Comedy", **GREEDY)
        return pipeline.ask(text, mode="plain", **GREEDY).text

    alone = [run(job) for job in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:  # the demo serves two events at once; the first plot loads
        together = list(pool.map(run, jobs * 3))
    assert together == alone * 3


def test_without_a_plot_adapter_plots_use_the_answer_generator(adapters):
    qa, _ = adapters
    pipeline = load_pipeline(_settings(generator=str(qa), plot_generator="none"), need_index=False)
    assert pipeline.plot_model() is pipeline.generator and pipeline.plot_generator_name is None
    streamed = list(pipeline.plot_stream(OPENINGS[0], **GREEDY))
    assert streamed[-1] == pipeline.plot(OPENINGS[0], **GREEDY)


def test_plot_decoding_settings_reach_the_generator(tiny_pipeline, monkeypatch):
    seen = []
    monkeypatch.setattr(tiny_pipeline.generator, "generate", lambda prompts, **o: seen.append(o) or ["more"])
    tiny_pipeline.settings = tiny_pipeline.settings.with_overrides(plot_top_p=0.7, plot_no_repeat_ngram_size=3)
    tiny_pipeline.plot("A lonely robot", temperature=0.5)
    assert (seen[0]["top_p"], seen[0]["no_repeat_ngram_size"], seen[0]["temperature"]) == (0.7, 3, 0.5)
