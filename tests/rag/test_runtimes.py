"""rag.runtimes: the CTranslate2 generator against the torch one on a tiny random Llama (built here from a config),
the runtime choice, the conversion cache, and the one-line error when the package is missing."""
from __future__ import annotations

import sys

import pytest
import torch

from core.config import Settings
from core.errors import ConfigError, ModelUnavailable
from rag.generate import Generator

pytest.importorskip("ctranslate2")

PROMPTS = ["Question: Who directed Inception?\nAnswer:", "Context:\n[1] Jaws (1975). Directed by Steven Spielberg.\n\n"
           "Question: Who directed Jaws?\nAnswer:", "Question: Who?\nAnswer:"]


@pytest.fixture(scope="session")
def tiny_llama(tiny_tokenizer_dir):
    """A random 2-layer Llama (grouped-query attention, SmolLM2's rope theta) on the tiny test tokenizer."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tiny_tokenizer_dir)
    tokenizer.pad_token = tokenizer.eos_token
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         rope_theta=100000.0, tie_word_embeddings=True, initializer_range=0.2,
                         bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.eos_token_id)
    return LlamaForCausalLM(config).eval(), tokenizer


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("runtime_cache"))


def _settings(cache_dir: str, runtime: str, compute: str = "float32", **more) -> Settings:
    options = dict(max_new_tokens=12, batch_size=2, progress=False) | more
    return Settings().with_overrides(generator_runtime=runtime, ct2_compute_type=compute, cache_dir=cache_dir,
                                     **options)


@pytest.fixture(scope="session")
def pair(tiny_llama, cache_dir):
    """(torch Generator, CTranslate2 Generator in float32) over the same tiny Llama."""
    model, tokenizer = tiny_llama
    return (Generator(model, tokenizer, _settings(cache_dir, "torch")),
            Generator(model, tokenizer, _settings(cache_dir, "ctranslate2")))


def test_the_runtime_is_chosen_from_the_settings(tiny_llama, tiny_model, cache_dir):
    llama, tokenizer = tiny_llama
    assert Generator(llama, tokenizer, _settings(cache_dir, "auto")).runtime == "ctranslate2"
    assert type(Generator(llama, tokenizer, _settings(cache_dir, "torch"))) is Generator
    gpt2, gpt2_tokenizer = tiny_model
    assert Generator(gpt2, gpt2_tokenizer, _settings(cache_dir, "auto")).runtime == "torch"  # not a Llama
    with pytest.raises(ConfigError, match="generator_runtime"):
        Generator(llama, tokenizer, _settings(cache_dir, "tensorrt"))


def test_greedy_texts_match_torch(pair):
    torch_gen, ct2_gen = pair
    for options in ({}, {"stop": ()}, {"stop": (), "max_new_tokens": 3}, {"stop": ("Nolan", "\n")}):
        assert ct2_gen.generate(PROMPTS, **options) == torch_gen.generate(PROMPTS, **options), options
    assert any(ct2_gen.generate(PROMPTS, stop=()))  # the tiny model writes something


def test_stream_equals_generate_and_torch(pair):
    torch_gen, ct2_gen = pair
    for options in ({}, {"stop": (), "max_new_tokens": 20}):
        streamed = "".join(ct2_gen.stream(PROMPTS[1], **options))
        expected = torch_gen.generate([PROMPTS[1]], **options)[0]
        assert streamed == ct2_gen.generate([PROMPTS[1]], **options)[0] == expected


def test_the_prefix_cache_is_a_static_prompt_with_the_same_texts(tiny_llama, cache_dir, pair):
    torch_gen = pair[0]
    model, tokenizer = tiny_llama
    gen = Generator(model, tokenizer, _settings(cache_dir, "ctranslate2"))
    gen.add_prefix("Context:\n")
    batch = ["Context:\n[1] Inception (2010).\n\nQuestion: Who?\nAnswer:", PROMPTS[1], "Context:\n"]
    assert gen._split([gen.encode(p)[0] for p in batch[:2]], "Context:\n")[0] is not None
    expected = torch_gen.generate(batch, stop=())
    assert gen.generate(batch, stop=()) == expected
    assert "".join(gen.stream(batch[1], stop=())) == expected[1]


def test_suppress_first_matches_torch(pair):
    torch_gen, ct2_gen = pair
    tokenizer = torch_gen.tokenizer
    for prompt in PROMPTS:
        plain = torch_gen.generate([prompt], stop=(), max_new_tokens=6)[0]
        first = tokenizer(plain, add_special_tokens=False)["input_ids"][:1]
        want = torch_gen.generate([prompt], stop=(), max_new_tokens=6, suppress_first=first)
        assert ct2_gen.generate([prompt], stop=(), max_new_tokens=6, suppress_first=first) == want
        assert "".join(ct2_gen.stream(prompt, stop=(), max_new_tokens=6, suppress_first=first)) == want[0]
        assert ct2_gen.generate([prompt], stop=(), max_new_tokens=1, suppress_first=first) == \
            torch_gen.generate([prompt], stop=(), max_new_tokens=1, suppress_first=first)


def test_one_engine_thread_leaves_torch_its_threads(tiny_llama, cache_dir, pair):
    model, tokenizer = tiny_llama
    torch_threads = torch.get_num_threads()
    gen = Generator(model, tokenizer, _settings(cache_dir, "ctranslate2", ct2_threads=1, num_threads=2))
    assert gen.engine.num_generators == 1
    assert torch.get_num_threads() == torch_threads  # the engine's thread count does not leak into torch's
    assert gen.generate(PROMPTS, stop=()) == pair[1].generate(PROMPTS, stop=())


def test_suppress_first_in_a_batch_of_unequal_prompts_matches_torch(pair):
    torch_gen, ct2_gen = pair
    first = torch_gen.generate(PROMPTS, stop=(), max_new_tokens=1)
    suppress = sorted({ids[0] for ids in (torch_gen.tokenizer.encode(t) for t in first) if ids})
    want = torch_gen.generate(PROMPTS, stop=(), max_new_tokens=6, suppress_first=suppress)
    assert ct2_gen.generate(PROMPTS, stop=(), max_new_tokens=6, suppress_first=suppress) == want


def test_sampling_with_a_seed_is_reproducible_and_without_one_varies(pair):
    torch_gen, ct2_gen = pair
    options = dict(temperature=1.0, top_k=20, top_p=0.95, stop=(), max_new_tokens=16)
    a = ct2_gen.generate(PROMPTS, seed=3, **options)
    assert a == ct2_gen.generate(PROMPTS, seed=3, **options) == torch_gen.generate(PROMPTS, seed=3, **options)
    assert "".join(ct2_gen.stream(PROMPTS[0], seed=3, **options)) == ct2_gen.generate(PROMPTS[:1], seed=3, **options)[0]
    unseeded = [tuple(ct2_gen.generate(PROMPTS, **options)) for _ in range(3)]  # sampled on CTranslate2
    assert len(set(unseeded)) > 1
    ids = ct2_gen.encode(PROMPTS[0])[0]
    config, stop = ct2_gen._config(options)
    first = ct2_gen._run([ids], None, config, stop)[0][:1]  # token ids: decoded text need not re-encode the same
    config, stop = ct2_gen._config(dict(options, suppress_first=first))
    for _ in range(4):
        assert ct2_gen._run([ids], None, config, stop)[0][:1] != first


def test_int8_weights_agree_with_torch_on_the_first_tokens(tiny_llama, cache_dir, pair):
    model, tokenizer = tiny_llama
    int8 = Generator(model, tokenizer, _settings(cache_dir, "ctranslate2", "int8_float32"))
    got = int8.generate(PROMPTS, stop=(), max_new_tokens=3)
    want = pair[0].generate(PROMPTS, stop=(), max_new_tokens=3)
    assert sum(g == w for g, w in zip(got, want)) >= 2, (got, want)


def test_conversion_is_cached_by_weights(tiny_llama, cache_dir, pair):
    import copy

    model, tokenizer = tiny_llama
    folder = pair[1].model_dir
    stamp = (folder / "model.bin").stat().st_mtime_ns
    again = Generator(model, tokenizer, _settings(cache_dir, "ctranslate2"))
    assert again.model_dir == folder and (folder / "model.bin").stat().st_mtime_ns == stamp
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.model.norm.weight.mul_(1.5)
    assert Generator(changed, tokenizer, _settings(cache_dir, "ctranslate2")).model_dir != folder


def test_a_lora_adapter_is_merged_for_the_runtime(tiny_llama, cache_dir):
    from peft import LoraConfig, get_peft_model

    model, tokenizer = tiny_llama
    import copy

    torch.manual_seed(1)
    peft_model = get_peft_model(copy.deepcopy(model), LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj",
                                                                                                    "down_proj"]))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    peft_model.eval()
    torch_gen = Generator(peft_model, tokenizer, _settings(cache_dir, "torch"))
    ct2_gen = Generator(peft_model, tokenizer, _settings(cache_dir, "auto"))
    assert ct2_gen.runtime == "ctranslate2"
    assert ct2_gen.generate(PROMPTS, stop=()) == torch_gen.generate(PROMPTS, stop=())
    assert ct2_gen.generate(PROMPTS, stop=()) != Generator(model, tokenizer, _settings(cache_dir, "torch")).generate(
        PROMPTS, stop=())  # the adapter changed the answers, and the runtime kept the change


def test_a_missing_package_says_what_to_install(tiny_llama, cache_dir, monkeypatch):
    model, tokenizer = tiny_llama
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # import ctranslate2 now raises ImportError
    with pytest.raises(ModelUnavailable, match=r"pip install ctranslate2==[\d.]+ \(or --generator-runtime torch\)"):
        Generator(model, tokenizer, _settings(cache_dir, "ctranslate2"))


def test_concurrent_calls_give_the_sequential_texts(pair):
    """The demo runs two requests at once: streams and batches on one engine do not mix rows."""
    from concurrent.futures import ThreadPoolExecutor

    ct2_gen = pair[1]
    expected = [ct2_gen.generate([p], stop=())[0] for p in PROMPTS]
    jobs = [(i, kind) for i in range(len(PROMPTS)) for kind in ("generate", "stream")] * 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda job: ct2_gen.generate([PROMPTS[job[0]]], stop=())[0] if job[1] == "generate"
                            else "".join(ct2_gen.stream(PROMPTS[job[0]], stop=())), jobs))
    assert got == [expected[i] for i, _ in jobs]


def test_the_plot_adapters_view_runs_on_the_runtime(tiny_llama, cache_dir, tmp_path):
    """load_plot_generator's view (answer adapter merged into the model, plot adapter applied on top, the answer one
    taken away) converts to the same model torch runs."""
    from peft import LoraConfig, PeftModel, get_peft_model

    from core.models import adapter_view

    model, tokenizer = tiny_llama
    base = tmp_path / "base"
    model.save_pretrained(base)
    adapters = []
    for seed, name in ((1, "answer"), (2, "plot")):
        torch.manual_seed(seed)
        peft = get_peft_model(type(model).from_pretrained(base), LoraConfig(
            r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "up_proj"], init_lora_weights=False))
        peft.save_pretrained(tmp_path / name)
        adapters.append(str(tmp_path / name))
    merged = PeftModel.from_pretrained(type(model).from_pretrained(base), adapters[0]).merge_and_unload().eval()
    view = adapter_view(merged, adapters[1], merged_adapter=adapters[0])
    torch_gen = Generator(view, tokenizer, _settings(cache_dir, "torch"))
    ct2_gen = Generator(view, tokenizer, _settings(cache_dir, "auto"))
    assert ct2_gen.runtime == "ctranslate2"
    assert ct2_gen.generate(PROMPTS, stop=()) == torch_gen.generate(PROMPTS, stop=())
    plain_plot = PeftModel.from_pretrained(type(model).from_pretrained(base), adapters[1]).merge_and_unload()
    assert ct2_gen.generate(PROMPTS, stop=()) == Generator(plain_plot.eval(), tokenizer, _settings(
        cache_dir, "torch")).generate(PROMPTS, stop=())  # base + plot adapter, the answer adapter taken away


def test_concurrent_requests_are_micro_batched_with_the_same_texts(tiny_llama, cache_dir, pair):
    """batch_window_ms > 0: concurrent calls decode as one batch; each caller (and each stream) gets its own text,
    the same as alone; a stream left early does not disturb the others."""
    from concurrent.futures import ThreadPoolExecutor

    from rag.runtimes.ct2_batched import BatchedCTranslate2Generator

    model, tokenizer = tiny_llama
    gen = Generator(model, tokenizer, _settings(cache_dir, "ctranslate2", batch_window_ms=50.0, batch_size=8))
    assert isinstance(gen, BatchedCTranslate2Generator)
    gen.add_prefix("Context:\n")
    prompts = PROMPTS + ["Context:\n[1] Inception (2010).\n\nQuestion: Who?\nAnswer:"]
    expected = pair[1].generate(prompts, stop=())
    with ThreadPoolExecutor(max_workers=8) as pool:
        plain = list(pool.map(lambda p: gen.generate([p], stop=())[0], prompts * 2))
        streamed = list(pool.map(lambda p: "".join(gen.stream(p, stop=())), prompts * 2))
    assert plain == expected * 2 and streamed == expected * 2
    assert max(gen.batcher.batches) > 1  # some calls shared a batch
    stream = gen.stream(PROMPTS[1], stop=(), max_new_tokens=20)
    next(stream)
    stream.close()  # the consumer leaves: its row stops; the next calls are unaffected
    assert gen.generate(prompts, stop=()) == expected
    assert gen.generate(PROMPTS[:1], max_new_tokens=6, stop=(), suppress_first=[1]) == \
        pair[0].generate(PROMPTS[:1], max_new_tokens=6, stop=(), suppress_first=[1])  # runs alone


def test_the_batcher_hands_the_lead_on_and_reports_errors():
    import threading

    from rag.runtimes.batcher import MicroBatcher, Request

    def run(requests):
        if any(r.rows == [[-1]] for r in requests):
            raise ValueError("bad row")
        for r in requests:
            r.result = [[x * 2 for x in row] for row in r.rows]

    batcher = MicroBatcher(0.05, max_rows=2, run=run)
    results = {}

    def ask(i):
        results[i] = batcher.submit("k", Request([[i]])).result

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert results == {i: [[2 * i]] for i in range(5)} and max(batcher.batches) == 2 and sum(batcher.batches) == 5
    failed = batcher.submit("k", Request([[-1]]))
    assert isinstance(failed.error, ValueError)


def test_requests_arriving_while_a_batch_runs_form_the_next_batch():
    import threading
    import time

    from rag.runtimes.batcher import MicroBatcher, Request

    def run(requests):
        time.sleep(0.3)  # the engine is busy with this batch
        for r in requests:
            r.result = r.rows

    batcher = MicroBatcher(0.01, max_rows=8, run=run)
    first = threading.Thread(target=batcher.submit, args=("k", Request([[0]])))
    first.start()
    time.sleep(0.1)  # the first batch is running now
    later = [threading.Thread(target=batcher.submit, args=("k", Request([[i]]))) for i in range(1, 4)]
    for t in later:  # one by one, each after the window: alone they would each be a batch
        t.start()
        time.sleep(0.05)
    for t in [first, *later]:
        t.join(5)
    assert batcher.batches == [1, 3]  # not three engine calls of one row each
