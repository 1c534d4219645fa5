"""Metadata-derived QA pairs: questions about any catalog's (or the WikiMovies KB's) facts, many phrasings
per relation, answers drawn from the facts. Forward (movie → director, writer, cast, year, genre, language,
tags, rating, popularity, runtime) and reverse (person → films, tag → films)."""
from __future__ import annotations

import random
from collections import Counter, defaultdict

from core.records import Movie, PassageKind, Question, passage_key

# {m} is the movie title; every phrasing asks for the same fact.
FORWARD_TEMPLATES: dict[str, list[str]] = {
    "movie_to_director": [
        "who directed {m}?", "who directed the movie {m}?", "who was the director of {m}?",
        "{m} was directed by whom?", "who is the director of the film {m}?", "who made the film {m}?",
        "can you name the director of {m}?", "which filmmaker directed {m}?", "who was {m} directed by?",
    ],
    "movie_to_writer": [
        "who wrote {m}?", "who was the writer of {m}?", "who wrote the screenplay for {m}?",
        "{m} was written by whom?", "who is credited with writing {m}?", "who are the writers of the film {m}?",
        "who wrote the story of the movie {m}?", "which screenwriter wrote {m}?",
    ],
    "movie_to_actors": [
        "who starred in {m}?", "who acted in the movie {m}?", "who are the actors in {m}?",
        "which actors appear in {m}?", "who was in the cast of {m}?", "who stars in the film {m}?",
        "{m} starred which actors?", "who are the main actors of {m}?", "who appears in the movie {m}?",
    ],
    "movie_to_year": [
        "when was {m} released?", "what year did {m} come out?", "in which year was the movie {m} released?",
        "{m} came out in which year?", "what is the release year of {m}?", "when did the film {m} come out?",
        "what year was {m} made?", "{m} was released in what year?",
    ],
    "movie_to_genre": [
        "what genre is {m}?", "what kind of movie is {m}?", "what type of film is {m}?",
        "which genre does {m} belong to?", "{m} is a film of what genre?", "what is the genre of the movie {m}?",
        "what sort of film is {m}?",
    ],
    "movie_to_language": [
        "what language is {m} in?", "what is the primary language of {m}?", "in which language was {m} made?",
        "what language is spoken in the film {m}?", "{m} is in what language?", "what language is the movie {m}?",
    ],
    "movie_to_tags": [
        "what words describe {m}?", "which tags describe the movie {m}?", "what topics is {m} about?",
        "what keywords are associated with {m}?", "describe {m} in a few words.", "what is the film {m} about?",
        "which words describe film {m}?",
    ],
    "movie_to_rating": [
        "what is the rating of {m}?", "how was {m} rated?", "what rating did {m} get?",
        "what is the average rating of the movie {m}?", "how is the film {m} rated?",
    ],
    "movie_to_imdbvotes": [
        "how popular is {m}?", "how famous is the movie {m}?", "how well known is the film {m}?",
        "what was the popularity of {m}?",
    ],
    "movie_to_runtime": [
        "how long is {m}?", "what is the running time of {m}?", "how many minutes long is the movie {m}?",
    ],
}
# {p} is a person or tag; the answer is the list of films.
REVERSE_TEMPLATES: dict[str, list[str]] = {
    "director_to_movie": [
        "what films did {p} direct?", "which movies were directed by {p}?", "what did {p} direct?",
        "{p} directed which films?", "name the movies directed by {p}.", "what movies has {p} directed?",
        "which films is {p} the director of?",
    ],
    "writer_to_movie": [
        "what films did {p} write?", "which movies were written by {p}?", "what has {p} written?",
        "{p} is the writer of which films?", "which films did {p} write the screenplay for?",
        "what movies was {p} a writer on?",
    ],
    "actor_to_movie": [
        "what movies did {p} act in?", "which films did {p} star in?", "what does {p} appear in?",
        "{p} starred in which movies?", "what films feature {p}?", "which movies was {p} an actor in?",
        "what has {p} acted in?",
    ],
    "tag_to_movie": [
        "which movies can be described by {p}?", "what films are about {p}?", "which movies are tagged {p}?",
        "name some films about {p}.", "what movies can be described with {p}?", "which films deal with {p}?",
    ],
}
RELATIONS = tuple(FORWARD_TEMPLATES) + tuple(REVERSE_TEMPLATES)


def _forward_facts(movie: Movie) -> dict[str, list[str]]:
    return {
        "movie_to_director": movie.directors,
        "movie_to_writer": movie.writers,
        "movie_to_actors": movie.cast,
        "movie_to_year": [str(movie.year)] if movie.year else [],
        "movie_to_genre": movie.genres,
        "movie_to_language": [movie.language] if movie.language else [],
        "movie_to_tags": movie.tags,
        "movie_to_rating": [f"{movie.rating:g}"] if movie.rating is not None else _extra(movie, "IMDb rating"),
        "movie_to_imdbvotes": _extra(movie, "IMDb votes") if movie.votes is None else [],
        "movie_to_runtime": [f"{movie.runtime_min} minutes"] if movie.runtime_min else [],
    }


def _extra(movie: Movie, key: str) -> list[str]:
    """A fact kept in Movie.extra (the KB's IMDb rating / votes words, e.g. "good", "famous")."""
    value = movie.extra.get(key, "").split(", ")[0].strip()
    return [value] if value and value.lower() != "unknown" else []


def kb_qa_pairs(
    movies: list[Movie],
    source: str,
    phrasings: int = 1,
    max_answers: int = 10,
    relations: tuple[str, ...] | None = None,
    seed: int = 42,
) -> list[Question]:
    """`phrasings` differently-worded questions per fact; reverse questions only for ≤ max_answers films.

    Titles shared by several movies get their year in forward questions ("who directed Scarface (1983)?");
    answers are the facts as the catalog has them (film titles without year)."""
    rng = random.Random(seed)
    wanted = set(relations or RELATIONS)
    unknown = wanted - set(RELATIONS)
    if unknown:
        raise ValueError(f"unknown relations {sorted(unknown)}; choose from {', '.join(RELATIONS)}")
    title_counts = Counter(m.title.lower() for m in movies)
    pairs: list[Question] = []

    def add(templates: list[str], slot: str, shown: str, entity: str, answers: list[str], rel: str,
            keys: list[str]) -> None:
        for template in rng.sample(templates, min(phrasings, len(templates))):
            pairs.append(Question(question=template.format(**{slot: shown}), answers=answers, source=f"kb:{source}",
                                type=rel, entity=entity, gold_keys=keys))

    reverse: dict[str, dict[str, list[str]]] = {r: defaultdict(list) for r in REVERSE_TEMPLATES}
    for movie in movies:
        shown = f"{movie.title} ({movie.year})" if title_counts[movie.title.lower()] > 1 and movie.year else movie.title
        for rel, answers in _forward_facts(movie).items():
            answers = list(dict.fromkeys(a for a in answers if a))
            if rel in wanted and answers and len(answers) <= max_answers:
                keys = [passage_key(PassageKind.CARD, movie.id)]
                add(FORWARD_TEMPLATES[rel], "m", shown, movie.title, answers, rel, keys)
        for rel, names in (("director_to_movie", movie.directors), ("writer_to_movie", movie.writers),
                           ("actor_to_movie", movie.cast), ("tag_to_movie", movie.tags)):
            for name in dict.fromkeys(names):
                if movie.title not in reverse[rel][name]:  # answers are bare titles, as in WikiMovies
                    reverse[rel][name].append(movie.title)
    for rel, table in reverse.items():
        if rel not in wanted:
            continue
        for name, films in table.items():
            if name and len(films) <= max_answers:
                keys = [passage_key(PassageKind.TAG if rel == "tag_to_movie" else PassageKind.PERSON, name)]
                add(REVERSE_TEMPLATES[rel], "p", name, name, films, rel, keys)
    return pairs
