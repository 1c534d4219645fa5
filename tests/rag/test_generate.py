from __future__ import annotations

import pytest

from core.config import Settings
from rag.generate import Generator, finish

PROMPTS = ["Question: Who directed Inception?\nAnswer:", "Context:\n[1] Jaws (1975). Directed by Steven Spielberg.\n\n"
           "Question: Who directed Jaws?\nAnswer:", "Question: Who?\nAnswer:"]


@pytest.fixture
def gen(tiny_model):
    model, tokenizer = tiny_model
    return Generator(model, tokenizer, Settings().with_overrides(max_new_tokens=12, batch_size=2, progress=False))


def test_finish_cuts_at_the_first_newline_after_text():
    assert finish("\n  Christopher Nolan\nQuestion: more") == "Christopher Nolan"
    assert finish("a\nb", stop_at_newline=False) == "a\nb"


def test_generate_is_greedy_deterministic_and_one_line(gen):
    first = gen.generate(PROMPTS)
    assert first == gen.generate(PROMPTS)
    assert all(isinstance(t, str) and "\n" not in t for t in first)


def test_batched_left_padding_matches_one_by_one(gen):
    batched = gen.generate(PROMPTS)  # batch_size=2: a padded batch and a single prompt
    single = [gen.generate([p])[0] for p in PROMPTS]
    assert batched == single


def test_max_new_tokens_is_respected(gen):
    text = gen.generate([PROMPTS[0]], max_new_tokens=3, stop_at_newline=False)[0]
    assert len(gen.tokenizer(text)["input_ids"]) <= 4


@pytest.mark.parametrize("options", [{}, {"stop_at_newline": False, "max_new_tokens": 20}])
def test_stream_equals_generate(gen, options):
    deltas = list(gen.stream(PROMPTS[1], **options))
    assert "".join(deltas) == gen.generate([PROMPTS[1]], **options)[0]


def test_prefix_cache_gives_the_same_text(gen):
    plain = [gen.generate([p], stop_at_newline=False)[0] for p in PROMPTS[1:2]]
    gen.add_prefix("Context:\n")
    assert gen.encode(PROMPTS[1])[1] == "Context:\n"
    cached = [gen.generate([p], stop_at_newline=False)[0] for p in PROMPTS[1:2]]
    assert cached == plain
    batch = ["Context:\n[1] Inception (2010).\n\nQuestion: Who?\nAnswer:", PROMPTS[1], "Context:\n[1] x\n\nQuestion: y\nAnswer:"]
    singles = [gen.generate([p], stop_at_newline=False)[0] for p in batch]
    assert gen.generate(batch, stop_at_newline=False) == singles  # shared prefix cache, padding in the middle
    assert "".join(gen.stream(PROMPTS[1], stop_at_newline=False)) == plain[0]


def test_sampling_with_a_seed_is_reproducible(gen):
    a = gen.generate([PROMPTS[0]], temperature=1.0, top_k=20, top_p=0.95, seed=3, stop_at_newline=False)
    b = gen.generate([PROMPTS[0]], temperature=1.0, top_k=20, top_p=0.95, seed=3, stop_at_newline=False)
    assert a == b


def test_bad_options_are_rejected(gen):
    with pytest.raises(TypeError):
        gen.generate(PROMPTS[:1], beams=4)
    with pytest.raises(ValueError):
        gen.generate(PROMPTS[:1], max_new_tokens=0)


def test_suppress_first_changes_only_the_first_token(gen):
    tokenizer = gen.tokenizer
    plain = gen.generate(PROMPTS[:1], max_new_tokens=4)[0]
    first = tokenizer(plain, add_special_tokens=False)["input_ids"][0]
    other = gen.generate(PROMPTS[:1], max_new_tokens=4, suppress_first=[first])[0]
    assert other and tokenizer(other, add_special_tokens=False)["input_ids"][0] != first
