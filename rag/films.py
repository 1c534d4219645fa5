"""Each film's passages in an index (its card and plot chunks) and its nearest films by plot embedding.

The open operations read them: describe cites a film's card and first plot chunks, recommend ranks plot
neighbours, identify searches plot chunks only. Built once per index (one pass over the passages).
"""
from __future__ import annotations

import numpy as np

from core.records import Passage, PassageKind
from index.store import MovieIndex


class FilmPassages:
    """Film id → its card row and plot rows in `index`; plot neighbours through the index's FAISS vectors."""

    def __init__(self, index: MovieIndex) -> None:
        self.index = index
        self.cards: dict[str, int] = {}
        self.plot_rows: dict[str, list[int]] = {}
        for row, p in enumerate(index.passages):
            if p.movie_id is None:
                continue
            if p.kind == PassageKind.CARD:
                self.cards[p.movie_id] = row
            elif p.kind == PassageKind.PLOT:
                self.plot_rows.setdefault(p.movie_id, []).append(row)

    def card(self, film_id: str) -> Passage | None:
        row = self.cards.get(film_id)
        return self.index.passages[row] if row is not None else None

    def plots(self, film_id: str) -> list[Passage]:
        """The film's plot chunks, in story order."""
        return [self.index.passages[r] for r in self.plot_rows.get(film_id, [])]

    def vector(self, film_id: str) -> np.ndarray | None:
        """The film's plot embedding (the normalised mean of its first chunks), else its card's; None if neither."""
        rows = self.plot_rows.get(film_id, [])[:3] or ([self.cards[film_id]] if film_id in self.cards else [])
        if not rows:
            return None
        mean = self.index.vectors[rows].mean(axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-9)).astype(np.float32)

    def neighbours(self, film_id: str, n: int) -> dict[str, float]:
        """Up to `n` other films whose plot (or card) passages lie nearest the film's plot: film id → cosine."""
        vector = self.vector(film_id)
        if vector is None:
            return {}
        scores, rows = self.index.dense_search(vector[None, :], n * 4)
        out: dict[str, float] = {}
        for row, score in zip(rows[0], scores[0]):
            p = self.index.passages[int(row)] if row >= 0 else None
            if p is None or p.movie_id in (None, film_id) or p.kind not in (PassageKind.PLOT, PassageKind.CARD):
                continue
            out.setdefault(p.movie_id, float(score))
            if len(out) >= n:
                break
        return out
