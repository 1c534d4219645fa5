"""Passages: metadata cards, titled plot chunks, person cards, tag cards; stable keys and hashes."""
from __future__ import annotations

from core.config import Settings
from core.records import Movie
from index.passages import build_passages, card_text, chunk_words

S = Settings().with_overrides(progress=False)


def by_key(passages):
    return {p.key: p for p in passages}


def test_card_reads_like_the_facts(movies):
    m = movies[0]
    m.language, m.tags, m.rating, m.votes = "English", ["dreams", "heist"], 8.8, 2000000
    m.extra = {"IMDb votes": "famous"}
    assert card_text(m) == (
        "Inception (2010). Directed by Christopher Nolan. Written by Christopher Nolan. "
        "Starring Leonardo DiCaprio, Joseph Gordon-Levitt. Genre: Science Fiction, Action. Language: English. "
        "Tags: dreams, heist. Rating: 8.8/10 from 2,000,000 votes. IMDb votes: famous.")
    assert card_text(Movie(title="Untitled")) == "Untitled."


def test_every_movie_has_card_and_titled_plot(movies):
    passages = by_key(build_passages(movies, S))
    for m in movies:
        card = passages[f"card:{m.id}"]
        assert card.kind == "card" and card.year == m.year and card.movie_id == m.id and card.genres == m.genres
        plot = passages[f"plot:{m.id}:0"]
        assert plot.text.startswith(f"{m.title} ({m.year}): ") and plot.movie_id == m.id
    # remakes stay apart
    assert passages["card:scarface (1932)"].text.startswith("Scarface (1932). Directed by Howard Hawks")
    assert passages["card:scarface (1983)"].text.startswith("Scarface (1983). Directed by Brian De Palma")


def test_plot_chunks_respect_word_limit_and_sentences():
    text = " ".join(f"Sentence number {i} has six words." for i in range(100))  # 600 words
    chunks = chunk_words(text, 120)
    assert all(len(c.split()) <= 120 for c in chunks) and len(chunks) == 5
    assert all(c.endswith(".") for c in chunks)
    assert " ".join(chunks) == text
    assert chunk_words("word " * 300, 120) == ["word " * 119 + "word"] * 2 + ["word " * 59 + "word"]
    assert chunk_words("first para.\n\nsecond para.", 120) == ["first para.", "second para."]
    movie = Movie(title="Long", year=2000, plot=text)
    plots = [p for p in build_passages([movie], S) if p.kind == "plot"]
    assert [p.key for p in plots] == [f"plot:long (2000):{i}" for i in range(5)]
    assert all(p.text.startswith("Long (2000): ") for p in plots)


def test_person_cards_list_roles(movies):
    passages = by_key(build_passages(movies, S))
    nolan = passages["person:christopher nolan:0"]
    assert nolan.kind == "person" and nolan.title == "Christopher Nolan" and nolan.movie_id is None
    assert nolan.text == ("Christopher Nolan — director of: The Dark Knight (2008), Inception (2010); "
                          "writer of: The Dark Knight (2008), Inception (2010).")
    assert passages["person:al pacino:0"].text == "Al Pacino — actor in: Scarface (1983)."


def test_long_filmography_split_but_complete():
    films = [Movie(title=f"Film {i:03d}", year=1900 + i, cast=["Busy Actor"]) for i in range(100)]
    cards = [p for p in build_passages(films, S) if p.kind == "person"]
    assert [p.key for p in cards] == [f"person:busy actor:{i}" for i in range(4)]
    assert cards[1].text.startswith("Busy Actor (continued) — actor in: Film 030 (1930)")
    listed = [f for p in cards for f in p.text.split(": ", 1)[1].rstrip(".").split(", ")]
    assert listed == [f"Film {i:03d} ({1900 + i})" for i in range(100)]


def test_tag_cards():
    films = [Movie(title="Heat", year=1995, tags=["heist"]),
             Movie(title="Inception", year=2010, tags=["heist", "dreams"])]
    passages = by_key(build_passages(films, S))
    assert passages["tag:heist:0"].text == "Films tagged 'heist': Heat (1995), Inception (2010)."
    assert passages["tag:heist:0"].kind == "tag"
    no_tags = build_passages(films, Settings().with_overrides(progress=False, tag_cards=False))
    assert not any(p.kind == "tag" for p in no_tags)


def test_keys_unique_and_hashes_stable(movies):
    a, b = build_passages(movies, S), build_passages(movies, S)
    assert [p.key for p in a] == [p.key for p in b] and [p.hash for p in a] == [p.hash for p in b]
    assert len({p.key for p in a}) == len(a)
    movies[1].cast.append("Lorraine Gary")
    before = {p.key: p.hash for p in a}
    after = {p.key: p.hash for p in build_passages(movies, S)}
    assert {k for k in before if before[k] != after[k]} == {"card:jaws (1975)"}
    assert set(after) - set(before) == {"person:lorraine gary:0"}
