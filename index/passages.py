"""Movie records → passages: a metadata card per movie, title-prefixed plot chunks, person cards
(director/writer/actor → films) and tag cards (tag → films). Texts are plain sentences so that both the
embedder and BM25 see names, years and facts the way questions ask for them."""
from __future__ import annotations

import re
from collections import defaultdict

from core.config import Settings
from core.records import Movie, Passage, PassageKind, key_text, passage_key

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
ROLES = (("directors", "director of"), ("writers", "writer of"), ("cast", "actor in"))


def label(movie: Movie) -> str:
    """"Inception (2010)", or the bare title when the year is unknown."""
    return f"{movie.title} ({movie.year})" if movie.year else movie.title


def _join(items: list[str]) -> str:
    return ", ".join(items)


def card_text(movie: Movie) -> str:
    """"Inception (2010). Directed by … Written by … Starring … Genre: … Language: … Tags: … Rating: …"."""
    parts = [f"{label(movie)}."]
    if movie.directors:
        parts.append(f"Directed by {_join(movie.directors)}.")
    if movie.writers:
        parts.append(f"Written by {_join(movie.writers)}.")
    if movie.cast:
        parts.append(f"Starring {_join(movie.cast)}.")
    if movie.genres:
        parts.append(f"Genre: {_join(movie.genres)}.")
    if movie.language:
        parts.append(f"Language: {movie.language}.")
    if movie.runtime_min:
        parts.append(f"Runtime: {movie.runtime_min} min.")
    if movie.tags:
        parts.append(f"Tags: {_join(movie.tags)}.")
    if movie.rating is not None:
        votes = f" from {movie.votes:,} votes" if movie.votes else ""
        parts.append(f"Rating: {movie.rating:g}/10{votes}.")
    elif movie.votes:
        parts.append(f"Votes: {movie.votes:,}.")
    for key, value in movie.extra.items():
        parts.append(f"{key}: {value}.")
    return " ".join(parts)


def chunk_words(text: str, max_words: int) -> list[str]:
    """Split text into chunks of at most ~max_words words at sentence ends (paragraphs never share a chunk)."""
    chunks: list[str] = []
    for paragraph in text.split("\n\n"):
        words_in_chunk, current = 0, []
        for sentence in _SENTENCE_END.split(paragraph.strip()):
            words = sentence.split()
            if not words:
                continue
            if words_in_chunk and words_in_chunk + len(words) > max_words:
                chunks.append(" ".join(current))
                words_in_chunk, current = 0, []
            while len(words) > max_words:  # a single over-long sentence
                chunks.append(" ".join(words[:max_words]))
                words = words[max_words:]
            current += words
            words_in_chunk += len(words)
        if current:
            chunks.append(" ".join(current))
    return chunks


def movie_passages(movie: Movie, settings: Settings) -> list[Passage]:
    meta = dict(year=movie.year, movie_id=movie.id, genres=list(movie.genres), title=movie.title)
    out = [Passage(key=passage_key(PassageKind.CARD, movie.id), kind=PassageKind.CARD, text=card_text(movie), **meta)]
    if movie.plot:
        for i, chunk in enumerate(chunk_words(movie.plot, settings.index.plot_chunk_words)):
            out.append(Passage(key=passage_key(PassageKind.PLOT, movie.id, i), kind=PassageKind.PLOT,
                               text=f"{label(movie)}: {chunk}", **meta))
    return out


def _sort_key(movie: Movie) -> tuple:
    return (movie.year or 0, movie.title.lower())


def person_passages(movies: list[Movie], settings: Settings) -> list[Passage]:
    """One card per person: "Christopher Nolan — director of: …; writer of: …; actor in: …".
    Long filmographies continue in further passages of `settings.index.person_card_films` films each."""
    names: dict[str, str] = {}
    credits: dict[str, list[tuple[int, Movie]]] = defaultdict(list)
    for movie in movies:
        for role_i, (attr, _) in enumerate(ROLES):
            for name in getattr(movie, attr):
                key = key_text(name)
                names.setdefault(key, name)
                credits[key].append((role_i, movie))
    out: list[Passage] = []
    per = max(1, settings.index.person_card_films)
    for key in sorted(credits):
        entries = sorted(set((r, m.id) for r, m in credits[key]))
        by_id = {m.id: m for _, m in credits[key]}
        entries.sort(key=lambda e: (e[0], _sort_key(by_id[e[1]])))
        name = names[key]
        for i in range(0, len(entries), per):
            part = entries[i:i + per]
            roles = []
            for role_i, (_, role) in enumerate(ROLES):
                films = [label(by_id[mid]) for r, mid in part if r == role_i]
                if films:
                    roles.append(f"{role}: {_join(films)}")
            head = name if i == 0 else f"{name} (continued)"
            out.append(Passage(key=passage_key(PassageKind.PERSON, key, i // per), kind=PassageKind.PERSON, title=name,
                               text=f"{head} — {'; '.join(roles)}."))
    return out


def tag_passages(movies: list[Movie], settings: Settings) -> list[Passage]:
    """"Films tagged 'heist': Inception (2010), …" for tag → films questions."""
    tags: dict[str, list[Movie]] = defaultdict(list)
    names: dict[str, str] = {}
    for movie in movies:
        for tag in movie.tags:
            key = key_text(tag)
            names.setdefault(key, tag)
            tags[key].append(movie)
    out: list[Passage] = []
    per = max(1, settings.index.person_card_films)
    for key in sorted(tags):
        films = sorted({m.id: m for m in tags[key]}.values(), key=_sort_key)
        for i in range(0, len(films), per):
            more = "" if i == 0 else " (continued)"
            text = f"Films tagged '{names[key]}'{more}: {_join(label(m) for m in films[i:i + per])}."
            out.append(Passage(key=passage_key(PassageKind.TAG, key, i // per), kind=PassageKind.TAG, title=names[key],
                               text=text))
    return out


def build_passages(movies: list[Movie], settings: Settings) -> list[Passage]:
    """All passages of a movie collection, in a deterministic order (movies, then people, then tags).

    Args:
        movies: the collection (person and tag cards span all of it).
        settings: `settings.index`: plot_chunk_words, person_card_films (films per person/tag card), tag_cards.

    Returns:
        Per movie a metadata card and its title-prefixed plot chunks, then person cards, then tag cards
        (if enabled); keys are stable across builds, so `add` can match passages by key and hash.
    """
    out: list[Passage] = []
    for movie in movies:
        out += movie_passages(movie, settings)
    out += person_passages(movies, settings)
    if settings.index.tag_cards:
        out += tag_passages(movies, settings)
    return out
