from __future__ import annotations

import random

import pytest
import torch

from core.config import Settings
from core.errors import ConfigError
from rag.generate import Generator, _held_back, _StopAfterText, finish

PROMPTS = ["Question: Who directed Inception?\nAnswer:", "Context:\n[1] Jaws (1975). Directed by Steven Spielberg.\n\n"
           "Question: Who directed Jaws?\nAnswer:", "Question: Who?\nAnswer:"]


@pytest.fixture
def gen(tiny_model):
    model, tokenizer = tiny_model
    return Generator(model, tokenizer, Settings().with_overrides(max_new_tokens=12, batch_size=2, progress=False))


def test_finish_cuts_at_the_first_newline_after_text():
    assert finish("\n  Christopher Nolan\nQuestion: more") == "Christopher Nolan"
    assert finish("a\nb", stop=()) == "a\nb"
    assert finish(" Nolan. Question: x\ny", stop=("Question:", "\n")) == "Nolan."  # the first stop string cuts


def test_generate_is_greedy_deterministic_and_one_line(gen):
    first = gen.generate(PROMPTS)
    assert first == gen.generate(PROMPTS)
    assert all(isinstance(t, str) and "\n" not in t for t in first)


def test_batched_left_padding_matches_one_by_one(gen):
    batched = gen.generate(PROMPTS)  # batch_size=2: a padded batch and a single prompt
    single = [gen.generate([p])[0] for p in PROMPTS]
    assert batched == single


def test_max_new_tokens_is_respected(gen):
    text = gen.generate([PROMPTS[0]], max_new_tokens=3, stop=())[0]
    assert len(gen.tokenizer(text)["input_ids"]) <= 4


@pytest.mark.parametrize("options", [{}, {"stop": (), "max_new_tokens": 20}])
def test_stream_equals_generate(gen, options):
    deltas = list(gen.stream(PROMPTS[1], **options))
    assert "".join(deltas) == gen.generate([PROMPTS[1]], **options)[0]


def test_prefix_cache_gives_the_same_text(gen):
    plain = [gen.generate([p], stop=())[0] for p in PROMPTS[1:2]]
    gen.add_prefix("Context:\n")
    assert gen.encode(PROMPTS[1])[1] == "Context:\n"
    cached = [gen.generate([p], stop=())[0] for p in PROMPTS[1:2]]
    assert cached == plain
    batch = ["Context:\n[1] Inception (2010).\n\nQuestion: Who?\nAnswer:", PROMPTS[1],
             "Context:\n[1] x\n\nQuestion: y\nAnswer:"]
    singles = [gen.generate([p], stop=())[0] for p in batch]
    assert gen.generate(batch, stop=()) == singles  # shared prefix cache, padding in the middle
    assert "".join(gen.stream(PROMPTS[1], stop=())) == plain[0]


def test_sampling_with_a_seed_is_reproducible(gen):
    a = gen.generate([PROMPTS[0]], temperature=1.0, top_k=20, top_p=0.95, seed=3, stop=())
    b = gen.generate([PROMPTS[0]], temperature=1.0, top_k=20, top_p=0.95, seed=3, stop=())
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


def test_bad_stop_strings_are_rejected(gen):
    with pytest.raises(ConfigError, match="stop"):
        gen.generate(PROMPTS[:1], stop=("",))


@pytest.fixture
def scripted(tiny_gpt2_dir):
    """A Generator over a tiny GPT-2 whose logits force a scripted text per batch row, then eos: the model
    "writes" exactly what a test wants."""
    from transformers import GPT2LMHeadModel

    class Scripted(GPT2LMHeadModel):
        scripts: list[list[int]] = []
        steps = 0

        def forward(self, *args, **kwargs):
            out = super().forward(*args, **kwargs)
            logits = torch.full_like(out.logits, -1e9)
            for row, ids in enumerate(self.scripts):
                logits[row, -1, ids[min(self.steps, len(ids) - 1)]] = 0.0
            self.steps += 1
            out.logits = logits
            return out

    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2_dir)
    tokenizer.pad_token = tokenizer.eos_token
    model = Scripted.from_pretrained(tiny_gpt2_dir).eval()
    generator = Generator(model, tokenizer, Settings().with_overrides(max_new_tokens=20, batch_size=2, progress=False))

    def script(*texts: str) -> None:
        model.scripts = [tokenizer(t, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id] for t in texts]
        model.steps = 0

    return generator, script


def test_a_leading_newline_does_not_stop_the_answer(scripted):
    gen, script = scripted
    script("\nanswer\nQuestion: more text")
    assert gen.generate([PROMPTS[0]]) == ["answer"]
    script("\n \nanswer\nQuestion: more text")
    assert "".join(gen.stream(PROMPTS[0])) == "answer"  # streaming stops at the newline too
    script("\nanswer\nQuestion: more text")
    assert gen.generate([PROMPTS[0]], stop=()) == ["answer\nQuestion: more text"]  # stop=(): no line stop


def test_batched_rows_stop_independently(scripted):
    gen, script = scripted
    tokenizer = gen.tokenizer
    first, second = "\nJaws\nStarring Leonardo DiCaprio", "Directed by Christopher Nolan\nx"
    script(first, second)
    ids = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in (PROMPTS[0], PROMPTS[0])]
    config, stop = gen._config({})
    rows = gen._run(ids, None, config, stop)
    lines = ("\nJaws\n", "Directed by Christopher Nolan\n")
    expected = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in lines]
    for row, want in zip(rows, expected):  # each row ends at its own newline; the rest is padding
        assert row[:len(want)] == want and set(row[len(want):]) <= {gen.pad_id}
    script(first, second)
    assert gen.generate([PROMPTS[0], PROMPTS[0]]) == ["Jaws", "Directed by Christopher Nolan"]


def test_stop_matches_decoding_every_row(gen):
    """The criterion fires at exactly the step where the old one did: the decoded generated text, leading
    whitespace dropped, first contains a stop string (random token sequences heavy in newlines and spaces)."""
    tokenizer, rng = gen.tokenizer, random.Random(0)
    vocab = list(range(len(tokenizer)))
    spaces = [i for i in vocab if not tokenizer.decode([i]).strip()]
    for stop in [("\n",), ("\n", "Nolan")]:
        criterion = _StopAfterText(gen._matcher(stop), tokenizer, start=3)
        for _ in range(200):
            row = [rng.choice(vocab) for _ in range(3)]
            for _ in range(12):
                row.append(rng.choice(spaces if rng.random() < 0.5 else vocab))
                old = any(s in tokenizer.decode(row[3:], skip_special_tokens=True).lstrip() for s in stop)
                assert bool(criterion(torch.tensor([row]), None)[0]) == old, (stop, row)
                if old:
                    break


def test_a_stream_holds_back_a_partial_stop_string():
    assert _held_back("Nolan\nQues", ("\nQuestion:",)) == "Nolan"
    assert _held_back("Nolan", ("\n",)) == "Nolan"
