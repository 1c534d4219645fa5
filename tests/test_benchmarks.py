"""The benchmark functions on a tiny in-memory setup (tiny GPT-2, a handful of movies), so the code path of
`python -m benchmarks` keeps working. Numbers are not checked, only shapes and invariants."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from core.config import Settings
from index.passages import build_passages
from index.store import MovieIndex


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread: on a shared, busy 2-core machine this keeps these tests at seconds."""
    from benchmarks.common import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture(scope="module")
def tiny_lm(tiny_gpt2_dir, tiny_tokenizer_dir, tmp_path_factory):
    """tests/conftest.py `tiny_gpt2_dir`, rebuilt when its tokenizer came out empty (transformers 5 ignores
    GPT2TokenizerFast(vocab_file=, merges_file=); same workaround as tests/rag/conftest.py `tiny_lm_dir`)."""
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    if len(AutoTokenizer.from_pretrained(tiny_gpt2_dir)) > 1:
        return tiny_gpt2_dir
    out = tmp_path_factory.mktemp("tiny_lm")
    tokenizer = GPT2TokenizerFast(vocab=str(tiny_tokenizer_dir / "vocab.json"),
                                  merges=str(tiny_tokenizer_dir / "merges.txt"), model_max_length=512)
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=512, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
    GPT2LMHeadModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


@pytest.fixture
def settings(tiny_lm) -> Settings:
    return Settings().with_overrides(generator=str(tiny_lm), progress=False, max_new_tokens=4, batch_size=2, k=3,
                    abstain_threshold=0.0)


@pytest.fixture
def tiny_index(movies, embedder, settings) -> MovieIndex:
    passages = build_passages(movies, settings)
    vectors = embedder.encode([p.text for p in passages], normalize_embeddings=True, convert_to_numpy=True)
    return MovieIndex(passages, vectors, {"sources": []})


def test_questions_and_retrieval(tiny_index, embedder, settings, movies):
    from benchmarks.common import benchmark_questions
    from benchmarks.retrieval import bench_retrieval

    questions, source = benchmark_questions(tiny_index, 4, seed=1, movies=movies)
    assert len(questions) == 4 and "titles" in source  # not a WikiMovies index → generated from titles
    assert questions[0].question.startswith("Who directed") and questions[0].answers  # gold from the Movie
    result = bench_retrieval(tiny_index, embedder, settings, [q.question for q in questions], k=3)
    for name in ("query_encode", "dense", "bm25", "hybrid", "hybrid_linked"):
        assert result[name]["n"] == 4 and result[name]["p50"] >= 0
    assert result["linked_questions"] >= 1  # "Who directed Jaws?"-style questions link their film
    from benchmarks.report import summary_text

    assert "Retrieval threads" in summary_text({"sections": {"retrieval": result}})


def test_answers_naive_levers_and_report(tiny_index, embedder, settings, tiny_lm):
    from benchmarks.answers import bench_answers
    from benchmarks.common import title_questions
    from benchmarks.levers import bench_levers
    from benchmarks.naive import bench_naive
    from benchmarks.report import check_targets, headline, summary_text
    from core.models import load_generator
    from rag.pipeline import Pipeline

    questions = title_questions(tiny_index, 3)
    model, tokenizer, _ = load_generator(settings)
    answers = bench_answers(Pipeline(tiny_index, embedder, model, tokenizer, settings), questions)
    assert answers["sequential"]["n"] == 3 and answers["first_token"]["n"] == 3
    assert answers["batched_questions_per_s"] > 0 and answers["new_tokens"]["n"] == 3
    pipeline = Pipeline(tiny_index, embedder, model, tokenizer, settings)
    naive = bench_naive(str(tiny_lm), embedder, tiny_index, questions[:2], k=2, max_new_tokens=3, pipeline=pipeline)
    assert naive["per_answer"]["n"] == 2 and naive["cards"] == 5 and naive["ours_paired"]["n"] == 2
    levers = bench_levers(tiny_index, embedder, model, tokenizer, settings, questions[:2],
                          ["threads", "no_newline_stop", "int8"])
    assert {"baseline", f"threads_{os.cpu_count()}", "no_newline_stop", "int8"} <= set(levers)  # tests run 1 thread
    assert all("error" not in r for r in levers.values() if isinstance(r, dict)), levers

    head = headline({"answers": answers, "naive": naive, "levers": levers})
    assert head["answer_rag_p50_s"] == answers["sequential"]["p50"] and head["speedup_vs_naive"] > 0
    result = {**head, "targets": check_targets(head), "sections": {"levers": levers}}
    assert result["targets"]["answer_rag_p50_s"]["met"] in (True, False)
    assert "RAG answer p50" in summary_text(result)
    json.dumps(result)  # serialisable


def test_build_and_add_never_reembed(tmp_path, embedder, settings):
    from benchmarks.build import bench_add, bench_build, synthetic_movies_csv
    from index.build import build_index

    catalog = synthetic_movies_csv(tmp_path / "films.csv", 4, seed=3)
    build = bench_build([str(catalog)], tmp_path)
    assert build["passages"] > 4 and build["build_ratio_vs_raw_encode"] > 0
    build_index([str(catalog)], str(tmp_path / "idx"), settings, embedder=embedder)
    add = bench_add(str(tmp_path / "idx"), tmp_path, settings, embedder, n_films=3)
    assert add["reembedded_existing"] == 0 and add["new"] >= 3 and add["embedded"] == add["encoded_texts"]
    assert add["passages_after"] > add["passages_before"]


def test_scaling_small(embedder, settings):
    from benchmarks.report import scaling_text
    from benchmarks.scaling import bench_scaling

    result = bench_scaling(embedder, settings, sizes=[60, 120], queries=5, k=3, pool=20, embed_sample=16)
    assert [r["passages"] for r in result["rows"]] == [60, 120]
    assert all(0.0 <= r["hnsw_recall_at_3"] <= 1.0 for r in result["rows"])
    assert "recall@3" in scaling_text(result)


def test_memory_helpers_and_cli_errors(tmp_path, capsys):
    from benchmarks.__main__ import main
    from benchmarks.memory import hwm_mb

    assert (hwm_mb(os.getpid()) or 1) > 0
    assert main(["scaling", "--out", str(tmp_path / "s.json"), "--sizes", "0"]) == 2
    assert capsys.readouterr().err.startswith("error:")


def test_onnx_encoder_matches_torch(tmp_path):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from benchmarks.onnx_encoder import OnnxEncoder
    from core.config import Settings
    from core.models import load_embedder

    embedder = load_embedder(Settings().with_overrides(embedder_backend="torch"))  # the lever is measured on torch

    texts = ["Who directed Jaws?", "Inception (2010). Directed by Christopher Nolan."]
    got = OnnxEncoder(embedder, tmp_path).encode(texts)
    want = embedder.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.abs(got - want).max() < 1e-4


def test_load_test_short_form_and_a_rebuild_under_load(tmp_path):
    """benchmarks.load_test's run over loopback, short: 4 clients × 3 questions on the demo with a fake pipeline
    (tests/test_app.py), then 3 × 3 while an upload rebuilds the index through the /rebuild API."""
    import app
    from benchmarks.build import synthetic_movies_csv
    from benchmarks.load_test import run_load
    from rag.ui import Demo
    from tests.test_app import FakePipeline, _free_port

    pipe = FakePipeline()
    ui = app.build_ui(Demo(pipe, Settings().with_overrides(index_dir=str(tmp_path / "idx"), progress=False)))
    ui.queue(default_concurrency_limit=2, max_size=16)
    ui.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True, ssr_mode=False)
    try:
        report = run_load(ui.local_url, 4, 3, server_pid=os.getpid(), deadline_s=300, request_timeout_s=120,
                          rss_mark=4)
        assert report["errors"] == 0 and report["completed"] == 12 and report["correct"] == 1  # the fake: Spielberg
        assert 0 < report["latency_p50_s"] <= report["latency_p95_s"] <= report["latency_max_s"]
        assert report["server_rss_growth"] is not None and set(report["server_rss_by_request_mb"]) == {4, 8, 12}
        catalog = synthetic_movies_csv(tmp_path / "films.csv", 5, seed=1)
        report = run_load(ui.local_url, 3, 3, deadline_s=300, request_timeout_s=120, rebuild_with=str(catalog),
                          rebuild_at=2)
        rebuild = report["rebuild"]
        assert report["errors"] == 0 and rebuild["message"].startswith("Done: built 5 movies"), rebuild
        assert rebuild["answers_mixing_indexes"] == 0 and pipe.index.manifest["movies"] == 5
    finally:
        ui.close()
    json.dumps(report)


def test_injection_run_on_a_tiny_index(tmp_path, movies, embedder, settings, tiny_lm):
    """benchmarks.injection end to end with the tiny GPT-2 (its answers mean nothing; the bookkeeping is checked)."""
    from benchmarks.injection import ABOUT_HOSTILE, MARKER, PATHS, hostile_copy, run_injection
    from core.models import load_generator
    from index.build import build_index
    from index.store import load_index
    from rag.pipeline import Pipeline
    from tests.test_app import _write_sample_csv

    settings = settings.with_overrides(linked_context=0)
    base_dir = str(tmp_path / "base")
    build_index([str(_write_sample_csv(tmp_path / "films.csv", movies))], base_dir, settings, embedder=embedder)
    hostile_dir = hostile_copy(base_dir, tmp_path, settings, embedder)
    base, hostile = load_index(base_dir, settings), load_index(hostile_dir, settings)
    assert len(hostile.passages) > len(base.passages) and any(MARKER in p.text for p in hostile.passages)
    model, tokenizer, _ = load_generator(settings)
    pipeline = Pipeline(base, embedder, model, tokenizer, settings)
    report = run_injection(pipeline, (base, None), (hostile, None), n_questions=3, seed=1)
    assert report["questions"] == 3 and report["candidates_tried"] >= 3
    for path in PATHS:
        counts = report["paths"][path]
        assert counts["prompts_holding_passage"] == 3 and counts["prompts_holding_passage_without"] == 0, counts
        assert 0 <= counts["answers_changed"] <= 3 and counts["answers_hacked_without"] == 0
    alone = report["instruction_alone"]
    assert alone["prompts"] == alone["instruction_cut"] == 3 and 0 <= alone["batched"]["changed"] <= 3
    assert [a["question"] for a in report["about_hostile_film"]] == ABOUT_HOSTILE
    json.dumps(report)


def test_torch_path_breakdown_and_runtimes_side_by_side(tiny_index, embedder, settings, tmp_path):
    pytest.importorskip("ctranslate2")
    from benchmarks.breakdown import STAGES, bench_breakdown
    from benchmarks.common import title_questions
    from benchmarks.paths import bench_paths
    from benchmarks.report import headline, summary_text
    from benchmarks.runtimes import bench_runtimes
    from core.models import load_embedder, load_generator
    from rag.pipeline import Pipeline

    questions = title_questions(tiny_index, 3)
    model, tokenizer, _ = load_generator(settings)
    new_settings = settings.with_overrides(generator_runtime="ctranslate2", cache_dir=str(tmp_path))
    old_settings = settings.with_overrides(generator_runtime="torch", embedder_backend="torch")
    new = Pipeline(tiny_index, embedder, model, tokenizer, new_settings)
    old = Pipeline(tiny_index, load_embedder(old_settings), model, tokenizer, old_settings)
    assert new.generator.runtime == "ctranslate2" and old.generator.runtime == "torch"
    paths = bench_paths(new, old, questions, [q.question for q in questions])
    assert paths["new"]["answer_s"]["n"] == 3 and paths["torch"]["first_token_s"]["n"] == 3
    assert paths["first_token_ratio_vs_torch"] > 0 and paths["hybrid_unlinked_ratio_vs_torch"] > 0
    parts = {"new": bench_breakdown(new, [q.question for q in questions]),
             "torch": bench_breakdown(old, [q.question for q in questions])}
    for part in parts.values():
        assert all(part[s]["n"] == 3 and part[s]["p50"] >= 0 for s in STAGES)
        assert sum(part["share_of_mean"].values()) == pytest.approx(1.0, abs=0.01)
    assert not hasattr(new.generator, "__dict__") or "_run" not in new.generator.__dict__  # the hook is removed
    runtimes = bench_runtimes(model, tokenizer, [q.question for q in questions], str(tmp_path), genai=False)
    engines = runtimes["engines"]
    assert {"torch", "ctranslate2 float32", "ctranslate2 int8_float32"} <= set(engines)
    assert engines["ctranslate2 float32"]["same_17_tokens_as_torch"] == 1.0  # float32: the same greedy tokens
    assert runtimes["memory_bandwidth"]["read_gb_s"] > 0 and runtimes["floor"]["int8_floor_ms_per_token"] > 0
    sections = {"torch_path": paths, "breakdown": parts, "runtimes": runtimes}
    head = headline(sections)
    assert head["first_token_ratio_vs_torch"] == paths["first_token_ratio_vs_torch"]
    assert head["decode_floor_int8_ms_per_token"] == runtimes["floor"]["int8_floor_ms_per_token"]
    text = summary_text({**head, "sections": sections})
    assert "Where the time goes" in text and "Generator runtimes" in text and "Today's torch path" in text
