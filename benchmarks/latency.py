"""Per-question latency of the RAG path: retrieval alone, then end-to-end answers (p50/p95 over N questions).

    python -m benchmarks.latency --index /tmp/wm --questions ../shared/data/wikimovies/questions/wiki_entities_dev.txt \
        [--n 50] [--retrieval-only] [--stream] [--generator ID] [--dtype bfloat16] [--int8] [--out latency.json]

Without --questions, questions are made from the index's cards ("Who directed <title>?", ...). The models are
loaded and warmed up (prefix KV cache, first allocations) before timing. Breaks the time down into query
encoding, dense, BM25 and linking+fusion, and prompt / generation / new tokens per answer.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

from benchmarks.common import stats
from core.config import Settings
from core.flags import add_settings_flags, run_command, settings_from_args
from core.models import load_embedder, load_generator
from evaluation.questions import read_questions
from rag.prompt import format_answer

TEMPLATES = ("Who directed {t}?", "What year was {t} released?", "Who starred in {t}?", "What genre is {t}?",
             "Who wrote {t}?")


def load_questions(path: str | None, index, n: int, seed: int) -> list[tuple[str, list[str]]]:
    """(question, gold answers) pairs; gold is empty for questions made from cards."""
    rng = random.Random(seed)
    if path:
        pairs = [(q.question, list(q.answers)) for q in read_questions(path)]
    else:
        titles = sorted({p.title for p in index.passages if p.kind == "card"})
        pairs = [(rng.choice(TEMPLATES).format(t=t), []) for t in rng.sample(titles, min(len(titles), n * 2))]
    return rng.sample(pairs, min(n, len(pairs)))


def bench_retrieval(retriever, questions: list[str]) -> dict:
    index, embedder = retriever.index, retriever.embedder
    k, cand = retriever.settings.retrieval.k, retriever.settings.retrieval.candidates
    parts: dict[str, list[float]] = {"encode": [], "dense": [], "bm25": [], "search": []}
    for q in questions[:3]:
        retriever.search(q)  # warm-up
    for q in questions:
        t0 = time.perf_counter()
        vec = embedder.encode([q], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        t1 = time.perf_counter()
        index.dense_search(vec, cand)
        t2 = time.perf_counter()
        index.bm25_search([q], cand)
        t3 = time.perf_counter()
        retriever.search(q, k=k)
        t4 = time.perf_counter()
        for name, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            parts[name].append(dt)
    out = {name: stats(v, 1000) for name, v in parts.items()}
    rest = [s - e - d - b for s, e, d, b in zip(parts["search"], parts["encode"], parts["dense"], parts["bm25"])]
    out["link_and_fuse"] = stats(rest, 1000)
    return out


def bench_answers(pipeline, questions: list[str], stream: bool, lengths: list[int] | None = None
                  ) -> tuple[dict, list[dict]]:
    """lengths: force exactly this many new tokens per question (no early stop), e.g. the gold answer's."""
    pipeline.ask(questions[0])  # warm-up: prefix KV cache, first allocations
    walls, cpus, rows = [], [], []
    tok = pipeline.tokenizer
    for i, q in enumerate(questions):
        forced = dict(max_new_tokens=lengths[i], stop=()) if lengths else {}
        t0, c0 = time.perf_counter(), time.process_time()
        answer = pipeline.ask(q, **forced)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        rows.append({"question": q, "answer": answer.text, "abstained": answer.abstained, **answer.timings,
                     "new_tokens": len(tok(answer.text, add_special_tokens=False)["input_ids"])})
    out = {"answer_s": stats(walls), "answer_cpu_s": stats(cpus),
           "generate_s": stats([r["generate_s"] for r in rows]), "retrieve_s": stats([r["retrieve_s"] for r in rows]),
           "prompt_s": stats([r["prompt_s"] for r in rows]),
           "new_tokens": stats([r["new_tokens"] for r in rows]), "abstained": sum(r["abstained"] for r in rows)}
    if all("plan_s" in r for r in rows):  # a planner is loaded: its cost against the whole answer
        out["plan_s"] = stats([r["plan_s"] for r in rows])
        out["plan_share_of_answer_p50"] = round(out["plan_s"]["p50"] / out["answer_s"]["p50"], 4)
    if stream:
        firsts = []
        for q in questions:
            t0, first = time.perf_counter(), None
            for text, _ in pipeline.ask_stream(q):
                if first is None and text:
                    first = time.perf_counter() - t0
            firsts.append(first if first is not None else time.perf_counter() - t0)
        out["first_token_s"] = stats(firsts)
    return out, rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.latency", description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", help="questions file (WikiMovies, MetaQA, JSONL, CSV); default: from cards")
    ap.add_argument("--n", type=int, default=50, help="questions timed (default 50)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the question sample (default 0)")
    ap.add_argument("--retrieval-only", action="store_true")
    ap.add_argument("--stream", action="store_true", help="also time the first streamed token")
    ap.add_argument("--gold-length", action="store_true",
                    help="generate exactly as many tokens as each gold answer (+1 for eos, at most max_new_tokens): "
                         "the latency of a model that answers briefly, e.g. a fine-tuned one")
    ap.add_argument("--out", help="write the results as JSON here")
    ap.add_argument("--rows", help="write per-question rows as JSONL here")
    add_settings_flags(ap, fields=("index_dir", "generator", "generator_dtype", "quantize_int8", "num_threads"),
                       aliases={"generator_dtype": ("--dtype", "--generator-dtype"),
                                "quantize_int8": ("--int8", "--quantize-int8")})
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    return run_command(lambda: measure(args))


def measure(args: argparse.Namespace) -> int:
    load = os.getloadavg()[0]

    import torch  # deferred: heavy, as are faiss (index, retrieve) and transformers (pipeline) below

    from index.default import ensure_index
    from index.store import load_index
    from rag.retrieve import Retriever

    settings = settings_from_args(args, Settings().with_overrides(progress=False))
    if settings.run.num_threads:
        torch.set_num_threads(settings.run.num_threads)
    if not args.index_dir:
        ensure_index(settings)
    index = load_index(settings.index.index_dir, settings)
    embedder = load_embedder(settings=settings)
    pairs = load_questions(args.questions, index, args.n, args.seed)
    questions = [q for q, _ in pairs]
    result = {"index": settings.index.index_dir, "passages": len(index), "questions": len(questions),
              "load_avg_1m": load, "threads": torch.get_num_threads(), "k": settings.retrieval.k,
              "retrieval_ms": bench_retrieval(Retriever(index, embedder, settings), questions)}
    rows = []
    if not args.retrieval_only:
        from rag.pipeline import Pipeline  # deferred: heavy, and not needed with --retrieval-only

        model, tokenizer, spec = load_generator(settings)
        pipeline = Pipeline(index, embedder, model, tokenizer, settings, generator_name=spec.name)
        result["generator"] = spec.name
        result["dtype"], result["int8"] = settings.decoding.generator_dtype, settings.decoding.quantize_int8
        lengths = None
        if args.gold_length:
            gold_tokens = [len(tokenizer(format_answer(gold), add_special_tokens=False)["input_ids"])
                           for _, gold in pairs]
            lengths = [min(settings.decoding.max_new_tokens, 1 + n) for n in gold_tokens]
            result["gold_length"] = True
        result["answers"], rows = bench_answers(pipeline, questions, args.stream, lengths)
    _print_summary(result)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))
    if args.rows:
        Path(args.rows).write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    return 0


def _print_summary(result: dict) -> None:
    r = result["retrieval_ms"]
    print(f"{result['questions']} questions, {result['passages']} passages, load average {result['load_avg_1m']:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"retrieval ms  p50 {r['search']['p50']:.2f}  p95 {r['search']['p95']:.2f}   "
          f"(encode {r['encode']['p50']:.2f}, dense {r['dense']['p50']:.2f}, bm25 {r['bm25']['p50']:.2f}, "
          f"link+fuse {r['link_and_fuse']['p50']:.2f})")
    if "answers" in result:
        a = result["answers"]
        print(f"answer s      p50 {a['answer_s']['p50']:.3f}  p95 {a['answer_s']['p95']:.3f}   (process CPU p50 "
              f"{a['answer_cpu_s']['p50']:.3f}, generate p50 "
              f"{a['generate_s']['p50']:.3f}, new tokens p50 {a['new_tokens']['p50']}, abstained {a['abstained']})")
        if "first_token_s" in a:
            print(f"first token s p50 {a['first_token_s']['p50']:.3f}  p95 {a['first_token_s']['p95']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
