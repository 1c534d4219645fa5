"""Describe a film ("Tell me about Parasite"): its card's facts and what happens in it, from its plot passages.

The evidence is the film's card and first plot chunks; the answer written from the data (the fallback when the
generated one is not grounded) is two or three sentences: what the film is (year, genre, director, stars), then
the opening of its plot. Several films with the title: the most voted one, and the others named.
"""
from __future__ import annotations

import re

from core.records import normalize
from index.catalog import Catalog
from rag.execute import Execution, Fact, label
from rag.films import FilmPassages
from rag.plan import EntityKind, Plan

PLOT_WORDS = 45  # words of plot in the written description (whole sentences; at least the first one)
PLOT_SENTENCES = 2  # sentences of plot at most
PLOT_CHUNKS = 1  # plot chunks in the evidence at least; more when the written opening runs past the first one
STARS = 3  # cast members named
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“'(])")


class Describer:
    """Callable: a describe plan → its Execution (evidence, the written description, or what is missing)."""

    def __init__(self, catalog: Catalog, films: FilmPassages) -> None:
        self.catalog, self.films = catalog, films

    def __call__(self, plan: Plan) -> Execution:
        topic = next((t for t in plan.topics if t.kind == EntityKind.FILM), None)
        if topic is None:
            return Execution(missing="Which film? Name it, e.g. Tell me about Alien.", steps=["describe: no film"])
        ids = self.catalog.films_named(topic.name, topic.year)
        if not ids:
            what = f"{topic.name} ({topic.year})" if topic.year else topic.name
            return Execution(missing=f"{what} is not in the catalog.", steps=[f"{topic}: not found"])
        film = max(ids, key=self._prominence)
        run = Execution(answers=[label(self.catalog, film)], steps=[f"{topic} → {', '.join(ids[:5])}"])
        card = self.films.card(film)
        if card is not None:
            run.facts.append(Fact(card.text, card.key, card.title, card.year))
        chunks = cited_chunks(self.films.plots(film), plot_opening(self.catalog.film(film).plot))
        for chunk in chunks:
            run.facts.append(Fact(chunk.text, chunk.key, chunk.title, chunk.year))
        others = [f for f in ids if f != film]
        if others:  # remakes: say which one this is, and cite the others' cards
            listed = ", ".join(label(self.catalog, f) for f in others[:3])
            run.facts.append(Fact(f"Other films titled {topic.name}: {listed}.", f"card:{others[0]}"))
        run.answer = describe(self.catalog, film) + (f" (Also in the catalog: {listed}.)" if others else "")
        run.steps.append(f"describe {run.answers[0]}: card + {len(chunks)} plot chunks")
        return run

    def _prominence(self, film_id: str) -> tuple:
        movie = self.catalog.film(film_id)
        return movie.votes or 0, bool(movie.plot), movie.rating or 0, movie.year or 0


def describe(catalog: Catalog, film_id: str) -> str:
    """Two or three sentences from the data: "Alien (1979) is a horror and science fiction film directed by
    Ridley Scott, starring … . <the opening of its plot>"."""
    movie = catalog.film(film_id)
    genres = [g.lower() for g in movie.genres[:3]]
    kind = f"{join_words(genres)} film" if genres else "film"
    parts = [f"{label(catalog, film_id)} is {'an' if kind[0] in 'aeiou' else 'a'} {kind}"]
    if movie.directors:
        parts.append(f" directed by {join_words(movie.directors[:2])}")
    if movie.cast:
        parts.append(f"{',' if movie.directors else ''} starring {join_words(movie.cast[:STARS])}")
    text = "".join(parts) + "."
    plot = plot_opening(movie.plot)
    return f"{text} {plot}" if plot else text


def cited_chunks(chunks: list, opening: str) -> list:
    """The first plot chunks, as many as the written opening spans (a catalog's plot can join a one-line overview
    and a longer synopsis as paragraphs, which never share a chunk), and at least PLOT_CHUNKS."""
    needed, out, covered = len(opening.split()), [], 0
    for chunk in chunks:
        if len(out) >= PLOT_CHUNKS and covered >= needed:
            break
        out.append(chunk)
        label_words = len(f"{chunk.title} ({chunk.year}):".split()) if chunk.year else len(f"{chunk.title}:".split())
        covered += len(chunk.text.split()) - label_words  # the chunk's words after its "Title (year): " label
    return out


def plot_opening(plot: str, words: int = PLOT_WORDS) -> str:
    """The plot's first sentences, about `words` words (at least one sentence; an over-long one is cut), each
    starting with a capital (some catalogs store lower-cased overviews)."""
    out: list[str] = []
    for sentence in _SENTENCE.split(" ".join(plot.split())):
        if out and (len(" ".join(out).split()) + len(sentence.split()) > words or len(out) >= PLOT_SENTENCES):
            break
        out.append(sentence[:1].upper() + sentence[1:])
    text = " ".join(out)
    cut = text.split()
    return text if len(cut) <= words * 2 else " ".join(cut[:words * 2]).rstrip(",;:") + " …"


def is_plot_sentence(sentence: str, card: str, plots: list[str]) -> bool:
    """A sentence that says what happens in the film: four or more of its words are in the plot passages and not
    on the card."""
    on_card = set(normalize(card).split())
    in_plot = set(normalize(" ".join(plots)).split())
    return sum(w in in_plot and w not in on_card for w in set(normalize(sentence).split()) if len(w) > 2) >= 4


def join_words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
