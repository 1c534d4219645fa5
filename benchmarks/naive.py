"""The naive peer pipeline that seeds and typical demos use, for a same-run speed comparison.

Per question: sentence-transformers encode, a flat FAISS search over one metadata card per film, a plain
"Context/Question/Answer:" prompt, and transformers.pipeline("text-generation") with greedy decoding of up
to max_new_tokens: no batching, no prefix KV cache, no stopping at the end of the answer line.
The card vectors are taken from our index (same embedder) so the naive index costs no extra build time;
only answering is timed.
"""
from __future__ import annotations

import time

import faiss
import numpy as np
from tqdm.auto import tqdm

from benchmarks.common import hits_at_1, stats


class NaivePipeline:
    def __init__(self, model_dir: str, embedder, index, k: int = 5, max_new_tokens: int = 24) -> None:
        from transformers import pipeline  # deferred: heavy

        self.generator = pipeline("text-generation", model=str(model_dir), device="cpu")
        if self.generator.tokenizer.pad_token_id is None:
            self.generator.tokenizer.pad_token = self.generator.tokenizer.eos_token
        rows = [i for i, p in enumerate(index.passages) if p.kind == "card"] or list(range(len(index)))
        self.cards = [index.passages[i].text for i in rows]
        vectors = np.ascontiguousarray(np.asarray(index.vectors)[rows], dtype=np.float32)
        self.faiss = faiss.IndexFlatIP(vectors.shape[1])
        self.faiss.add(vectors)
        self.embedder, self.k, self.max_new_tokens = embedder, k, max_new_tokens

    def prompt(self, question: str) -> str:
        vector = self.embedder.encode([question], normalize_embeddings=True, convert_to_numpy=True,
                                      show_progress_bar=False)
        _, ids = self.faiss.search(np.asarray(vector, dtype=np.float32), self.k)
        context = "\n".join(self.cards[i] for i in ids[0] if i >= 0)
        return f"Answer the question using the context.\n\nContext:\n{context}\n\nQuestion: {question}\nAnswer:"

    def answer(self, question: str) -> str:
        out = self.generator(self.prompt(question), max_new_tokens=self.max_new_tokens, do_sample=False,
                             return_full_text=False)
        text = out[0]["generated_text"].strip()
        return text.split("\n", 1)[0].strip()  # scoring only; the model still generated every token


def bench_naive(model_dir: str, embedder, index, questions: list, k: int = 5, max_new_tokens: int = 24,
                progress: bool = False, pipeline=None) -> dict:
    """Naive answers over the questions. With our `pipeline`, each question is asked of both in turn (paired),
    so load from other processes hits both alike; speedup = naive total / our total over the same questions."""
    start = time.perf_counter()
    naive = NaivePipeline(model_dir, embedder, index, k, max_new_tokens)
    load_s = time.perf_counter() - start
    naive.answer(questions[0].question)  # warm-up, as our pipeline gets one
    texts, walls, ours, ours_walls = [], [], [], []
    for q in tqdm(questions, desc="naive", unit="q", disable=not progress):
        if pipeline is not None:
            start = time.perf_counter()
            ours.append(pipeline.ask(q.question))
            ours_walls.append(time.perf_counter() - start)
        start = time.perf_counter()
        texts.append(naive.answer(q.question))
        walls.append(time.perf_counter() - start)
    out = {"model_dir": str(model_dir), "load_s": round(load_s, 2), "questions": len(questions), "k": k,
           "max_new_tokens": max_new_tokens, "cards": len(naive.cards), "per_answer": stats(walls),
           "total_s": round(sum(walls), 3), "hits_at_1": hits_at_1(texts, questions),
           "examples": [{"question": q.question, "answer": t} for q, t in list(zip(questions, texts))[:5]]}
    if pipeline is not None:
        out.update({"ours_paired": stats(ours_walls), "ours_paired_total_s": round(sum(ours_walls), 3),
                    "ours_paired_hits_at_1": hits_at_1(ours, questions),
                    "speedup_paired": round(sum(walls) / sum(ours_walls), 3)})
    return out
