"""Identify a film from what happens in it ("what's the movie where a thief plants an idea in a dream?").

Dense and BM25 search over plot passages only (no title linking: a described film is not named, and a word of
the description that is also a title, "Thief", must not pin that film), fused per film by reciprocal rank. The
answer is the best film, or the two best when their plots fit the question about equally (dense cosines within
TWIN_MARGIN); nothing fits (best cosine under settings.answer.abstain_threshold) → the catalog says so.
"""
from __future__ import annotations

import numpy as np

from core.config import Settings
from core.records import PassageKind, normalize
from index.store import MovieIndex
from rag.execute import Execution, Fact
from rag.films import FilmPassages

CANDIDATES = 200  # passages per search before keeping the plot chunks
SHOWN = 3  # films whose best plot chunk is in the evidence
TWIN_MARGIN = 0.015  # a second film within this dense cosine of the first is named too
CHUNK_WORDS = 90  # words of each plot chunk in the evidence
# words that frame the question, not the plot ("what's the movie where …"); kept out of the BM25 query
FRAME_WORDS = frozenset("""what whats what's which movie movies film films flick picture title name called is was the
one where about in that with a an it i remember trying to find think there does do""".split())


class Identifier:
    """Callable: questions → one Execution per question (the film or two films, their plot chunks as evidence)."""

    def __init__(self, index: MovieIndex, embedder, films: FilmPassages, settings: Settings) -> None:
        self.index, self.embedder, self.films, self.settings = index, embedder, films, settings

    def __call__(self, questions: list[str]) -> list[Execution]:
        if not questions:
            return []
        # the description without its frame ("which movie is about") for both searches: the frame only adds noise
        queries = [" ".join(w for w in normalize(q).split() if w not in FRAME_WORDS) or q for q in questions]
        vectors = self.embedder.encode(queries, normalize_embeddings=True, convert_to_numpy=True,
                                       show_progress_bar=False, batch_size=len(questions))
        d_scores, d_ids = self.index.dense_search(np.asarray(vectors, dtype=np.float32), CANDIDATES)
        _, b_ids = self.index.bm25_search(queries, CANDIDATES)
        return [self._identify(d_ids[i], d_scores[i], b_ids[i]) for i in range(len(questions))]

    def _identify(self, dense_rows, dense_scores, bm25_rows) -> Execution:
        rrf_k = self.settings.retrieval.rrf_k
        fused: dict[str, float] = {}
        best_row: dict[str, int] = {}
        cosine: dict[str, float] = {}
        for ranked, scores in ((dense_rows, dense_scores), (bm25_rows, None)):
            seen: set[str] = set()
            for j, row in enumerate(int(r) for r in ranked if r >= 0):
                p = self.index.passages[row]
                if p.kind != PassageKind.PLOT or p.movie_id in seen:
                    continue
                seen.add(p.movie_id)
                fused[p.movie_id] = fused.get(p.movie_id, 0.0) + 1.0 / (rrf_k + len(seen))
                best_row.setdefault(p.movie_id, row)
                if scores is not None:
                    cosine.setdefault(p.movie_id, float(scores[j]))
        if not fused or max(cosine.values(), default=0.0) < self.settings.answer.abstain_threshold:
            return Execution(missing="No film in the catalog matches that description.",
                             steps=["identify: no plot passage is close enough"])
        order = sorted(fused, key=lambda f: -fused[f])
        named = order[:1]
        if len(order) > 1 and abs(cosine.get(order[0], 0.0) - cosine.get(order[1], 0.0)) <= TWIN_MARGIN:
            named = order[:2]
        run = Execution(steps=[f"identify: {len(fused)} films' plots matched; best "
                               + ", ".join(f"{f} ({cosine.get(f, 0.0):.3f})" for f in order[:SHOWN])])
        for film in order[:SHOWN]:
            p = self.index.passages[best_row[film]]
            words = p.text.split()
            text = " ".join(words[:CHUNK_WORDS]) + (" …" if len(words) > CHUNK_WORDS else "")
            run.facts.append(Fact(text, p.key, p.title, p.year))
        run.answers = [_label(self.index.passages[best_row[f]]) for f in named]
        run.answer = run.answers[0] if len(named) == 1 else f"{' or '.join(run.answers)}: both fit the description."
        return run


def _label(passage) -> str:
    return f"{passage.title} ({passage.year})" if passage.year else passage.title
