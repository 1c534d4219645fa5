"""BM25-only retrieval with the project's former regex tokenizer vs bm25s.Tokenizer, on an existing index.

    python -m benchmarks.bm25_tokenizer --index /tmp/wm_only \
        --questions ../shared/data/wikimovies/questions/wiki_entities_dev.txt --n 300

Reads only passages.parquet (nothing is re-embedded), builds one in-memory BM25 per tokenizer and scores
recall@1, recall@5 and MRR@10 with evaluation.metrics.retrieval_rank, as `rag eval` does. Use dev questions.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import bm25s
import pandas as pd

from evaluation.metrics import mrr, recall_at_k, retrieval_rank
from evaluation.questions import load_questions, select_questions
from index.store import bm25_tokenizer, load_index, passages_from_frame

DEPTH = 10  # MRR@10
_WORD = re.compile(r"(?u)\b\w+\b")
_STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN)


def _regex_tokens(text: str) -> list[str]:
    """The tokenizer the index used before bm25s.Tokenizer: lower-cased words without English stopwords."""
    return [t for t in _WORD.findall(text.lower()) if t not in _STOPWORDS] or ["<empty>"]


def _search_regex(texts: list[str], queries: list[str], k: int):
    retriever = bm25s.BM25()
    retriever.index([_regex_tokens(t) for t in texts], show_progress=False)
    ids, scores = retriever.retrieve([_regex_tokens(q) for q in queries], k=k, show_progress=False)
    return ids, scores


def _search_tokenizer(texts: list[str], queries: list[str], k: int, tokenizer: bm25s.tokenization.Tokenizer):
    retriever = bm25s.BM25()
    retriever.index(tokenizer.tokenize(texts, return_as="tuple", show_progress=False), show_progress=False)
    query_ids = tokenizer.tokenize(queries, update_vocab=False, return_as="ids", show_progress=False)
    ids, scores = retriever.retrieve(query_ids, k=k, show_progress=False)
    return ids, scores


def _search_saved(index_dir: str, queries: list[str], k: int):
    """The index as saved (by whichever tokenizer built it), loaded and searched by index.store."""
    scores, ids = load_index(index_dir).bm25_search(queries, k)
    return ids, scores


def variants(index_dir: str) -> dict:
    """name → fn(texts, queries, k) -> (ids, scores)."""
    return {
        "saved index, load_index + bm25_search": lambda t, q, k: _search_saved(index_dir, q, k),
        "regex (before)": _search_regex,
        "bm25s.Tokenizer, index.store settings": lambda t, q, k: _search_tokenizer(t, q, k, bm25_tokenizer()),
        "bm25s.Tokenizer, default splitter (2+ chars)": lambda t, q, k: _search_tokenizer(
            t, q, k, bm25s.tokenization.Tokenizer(stopwords="en", stemmer=None)),
    }


def measure(index_dir: str, questions_file: str, n: int, seed: int = 42) -> dict:
    passages = passages_from_frame(pd.read_parquet(Path(index_dir) / "passages.parquet"))
    questions = select_questions(load_questions(questions_file).questions, n, seed=seed)
    texts, queries = [p.text for p in passages], [q.question for q in questions]
    out = {"index": index_dir, "passages": len(passages), "questions_file": questions_file, "n": len(questions),
           "seed": seed, "variants": {}}
    for name, search in variants(index_dir).items():
        start = time.perf_counter()
        ids, scores = search(texts, queries, DEPTH)
        seconds = time.perf_counter() - start
        ranks = [retrieval_rank([passages[i] for i, s in zip(row_ids, row_scores) if s > 0], q)
                 for q, row_ids, row_scores in zip(questions, ids, scores)]
        out["variants"][name] = {"recall@1": round(recall_at_k(ranks, 1), 4),
                                 "recall@5": round(recall_at_k(ranks, 5), 4),
                                 f"mrr@{DEPTH}": round(mrr(ranks), 4), "index_and_search_s": round(seconds, 2)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bm25_tokenizer", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True, help="index folder (only its passages.parquet is read)")
    parser.add_argument("--questions", required=True, help="question file (dev split)")
    parser.add_argument("--n", type=int, default=300, help="questions, a seeded random sample (default 300)")
    parser.add_argument("--seed", type=int, default=42, help="sampling seed (default 42)")
    args = parser.parse_args(argv)
    if "test" in Path(args.questions).name:
        print("error: use a dev question file, not a test file", file=sys.stderr)
        return 2
    print(json.dumps(measure(args.index, args.questions, args.n, args.seed), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
