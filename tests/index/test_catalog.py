"""The catalog store (index.catalog): every method on a tiny hand-written catalog (remakes sharing a title, a person
in several roles, films lacking runtime, accents, extra card fields, a WikiMovies-KB-like film), what `index build`
and `index add` write and Catalog.open reads, refusal of broken files, and thread safety."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from core.errors import IndexLoadError, PlanError
from core.records import Movie
from index.build import add_to_index, build_index
from index.catalog import Catalog, number_text, parse_number
from index.store import edges_frame, load_index, load_movies, read_manifest
from rag.plan import Constraints, Hop, Rel
from tests.index.conftest import write_sample_csv

INCEPTION, JAWS, SCARFACE_32, SCARFACE_83, DARK_KNIGHT = (
    "inception (2010)", "jaws (1975)", "scarface (1932)", "scarface (1983)", "the dark knight (2008)")
AMELIE, UNFORGIVEN, KISMET = "amélie (2001)", "unforgiven (1992)", "kismet (1944)"


@pytest.fixture
def films(movies) -> list[Movie]:
    """tests/conftest.py's five films (no runtime, rating or language) and three with the fields they lack."""
    return movies + [
        Movie(title="Amélie", year=2001, directors=["Jean-Pierre Jeunet"],
              writers=["Guillaume Laurant", "Jean-Pierre Jeunet"], cast=["Audrey Tautou"],
              genres=["Comedy", "Romance"], language="French", rating=8.3, votes=750000, runtime_min=122,
              plot="A shy waitress in Paris decides to change the lives of those around her.",
              extra={"Gross": "$33.2 million", "Certificate": "R"}, source="fixture"),
        Movie(title="Unforgiven", year=1992, directors=["Clint Eastwood"], writers=["David Webb Peoples"],
              cast=["Clint Eastwood", "Gene Hackman"], genres=["Western"], language="English", rating=8.2,
              votes=420000, runtime_min=130, extra={"Gross": "$101,157,447", "Certificate": "R"}, source="fixture"),
        Movie(title="Kismet", year=1944, directors=["William Dieterle"], cast=["Marlene Dietrich"],
              language="English, French", tags=["bd-r"], source="kb.txt",
              extra={"IMDb rating": "good", "Other release years": "1955"}),
    ]


@pytest.fixture
def cat(films) -> Catalog:
    return Catalog.from_movies(films)


# ---------------------------------------------------------------- films

def test_films(cat, films):
    assert len(cat) == 8 and cat.all_films() == [m.id for m in films]
    assert cat.film(AMELIE) is films[5] and AMELIE in cat and "alien (1979)" not in cat
    with pytest.raises(PlanError, match="no film 'alien"):
        cat.film("alien (1979)")
    assert len(Catalog.from_movies(films + [Movie(title="Jaws", year=1975, directors=["Someone"])])) == 8


def test_films_named(cat):
    assert cat.films_named("Scarface") == [SCARFACE_32, SCARFACE_83]  # remakes: both, catalog order
    assert cat.films_named("SCARFACE", 1983) == [SCARFACE_83]
    assert cat.films_named("Scarface", 2000) == []
    assert cat.films_named("amelie") == cat.films_named("Amélie!") == [AMELIE]  # accents, case, punctuation
    assert cat.films_named("the dark knight") == [DARK_KNIGHT]
    assert cat.films_named("Kismet", 1955) == [KISMET]  # a KB subject's other release year
    assert cat.films_named("Alien") == []


def test_people_named(cat):
    assert cat.people_named("jean pierre jeunet") == ["Jean-Pierre Jeunet"]
    assert cat.people_named("CHRISTOPHER NOLAN") == ["Christopher Nolan"]  # director and writer: one name
    assert cat.people_named("Clint Eastwood") == ["Clint Eastwood"]
    assert cat.people_named("Ridley Scott") == []


# ---------------------------------------------------------------- follow

def test_follow_forward_every_relation(cat):
    assert cat.follow([INCEPTION], "director") == {INCEPTION: ["Christopher Nolan"]}
    assert cat.follow([JAWS], Rel.WRITER) == {JAWS: ["Peter Benchley", "Carl Gottlieb"]}
    assert cat.follow([UNFORGIVEN], Hop(Rel.ACTOR)) == {UNFORGIVEN: ["Clint Eastwood", "Gene Hackman"]}
    assert cat.follow([SCARFACE_83], ("genre", False)) == {SCARFACE_83: ["Crime", "Drama"]}
    assert cat.follow([KISMET, AMELIE, JAWS], "language") == {KISMET: ["English", "French"], AMELIE: ["French"],
                                                            JAWS: []}
    assert cat.follow([KISMET], "tag") == {KISMET: ["bd-r"]}
    assert cat.follow([KISMET, SCARFACE_32], "year") == {KISMET: ["1944", "1955"], SCARFACE_32: ["1932"]}
    assert cat.follow([AMELIE, KISMET, JAWS], "rating") == {AMELIE: ["8.3"], KISMET: ["good"], JAWS: []}
    assert cat.follow([AMELIE], "votes") == {AMELIE: ["750000"]}
    assert cat.follow([UNFORGIVEN, INCEPTION], "runtime") == {UNFORGIVEN: ["130"], INCEPTION: []}  # lacking: []
    assert cat.follow([AMELIE], "title") == {AMELIE: ["Amélie"]}
    assert cat.follow([JAWS, UNFORGIVEN], "plot") == {JAWS: [cat.film(JAWS).plot], UNFORGIVEN: []}
    assert cat.follow([AMELIE, JAWS], "gross") == {AMELIE: ["$33.2 million"], JAWS: []}  # an extra field
    assert cat.follow(["alien (1979)"], "director") == {"alien (1979)": []}
    assert cat.follow([JAWS], "composer") == {JAWS: []}  # a field the catalog lacks


def test_follow_back(cat):
    nolan = [INCEPTION, DARK_KNIGHT]
    assert cat.follow(["christopher nolan"], Hop(Rel.DIRECTOR, back=True)) == {"christopher nolan": nolan}
    assert cat.follow(["Christopher Nolan"], "writer", back=True) == {"Christopher Nolan": nolan}  # other role
    assert cat.follow(["CLINT EASTWOOD"], ("actor", True)) == {"CLINT EASTWOOD": [UNFORGIVEN]}
    assert cat.follow(["Clint Eastwood"], "director", back=True)["Clint Eastwood"] == [UNFORGIVEN]
    assert cat.follow(["crime"], "genre", back=True) == {"crime": [SCARFACE_32, SCARFACE_83, DARK_KNIGHT]}
    assert cat.follow(["FRENCH"], "language", back=True) == {"FRENCH": [AMELIE, KISMET]}
    assert cat.follow(["BD-R"], "tag", back=True) == {"BD-R": [KISMET]}
    assert cat.follow([1983, "1955", "1983.0"], "year", back=True) == {1983: [SCARFACE_83], "1955": [KISMET],
                                                                      "1983.0": [SCARFACE_83]}
    assert cat.follow(["good"], "rating", back=True) == {"good": [KISMET]}
    assert cat.follow(["130"], "runtime", back=True) == {"130": [UNFORGIVEN]}
    assert cat.follow(["r"], "Certificate", back=True) == {"r": [AMELIE, UNFORGIVEN]}
    assert cat.follow(["Jean Pierre Jeunet", "Nobody"], "writer", back=True) == {
        "Jean Pierre Jeunet": [AMELIE], "Nobody": []}
    with pytest.raises(PlanError, match="plots cannot be followed back"):
        cat.follow(["a thief"], "plot", back=True)
    assert cat.follow([INCEPTION], Hop(Rel.DIRECTOR), back=True) == {INCEPTION: []}  # back overrides the hop


def test_two_hop_chain(cat):
    """What else did the director of Inception direct? film > director < director."""
    people = cat.follow([INCEPTION], Hop(Rel.DIRECTOR))[INCEPTION]
    films = cat.follow(people, Hop(Rel.DIRECTOR, back=True))
    assert films == {"Christopher Nolan": [INCEPTION, DARK_KNIGHT]}


# ---------------------------------------------------------------- filter, numbers

def test_filter(cat, films):
    assert cat.filter(None, Constraints()) == cat.all_films()
    assert cat.filter(None, Constraints(year_from=1980, year_to=1999)) == [SCARFACE_83, UNFORGIVEN]
    assert cat.filter(None, Constraints(year_to=1950)) == [SCARFACE_32, KISMET]
    assert cat.filter(None, Constraints(genre="crime")) == [SCARFACE_32, SCARFACE_83, DARK_KNIGHT]
    assert cat.filter(None, Constraints(genre="Crime", year_from=2000)) == [DARK_KNIGHT]
    assert cat.filter(None, Constraints(language="french")) == [AMELIE, KISMET]
    assert cat.filter(None, Constraints(min_rating=8.25)) == [AMELIE]  # Kismet's "good" is not a number
    assert cat.filter(None, Constraints(max_runtime=125)) == [AMELIE]  # films lacking runtime fail it
    assert cat.filter(None, Constraints(min_runtime=125, max_runtime=200)) == [UNFORGIVEN]
    assert cat.filter([UNFORGIVEN, "alien (1979)", SCARFACE_83], Constraints(year_from=1980)) == [
        UNFORGIVEN, SCARFACE_83]  # the order given; unknown ids dropped
    assert cat.filter([JAWS], None) == [JAWS]


def test_numbers(cat):
    assert cat.numbers(None, "runtime") == {AMELIE: 122.0, UNFORGIVEN: 130.0}  # films lacking it are left out
    assert cat.numbers([JAWS, SCARFACE_32], Rel.YEAR) == {JAWS: 1975.0, SCARFACE_32: 1932.0}
    assert cat.numbers(None, "rating") == {AMELIE: 8.3, UNFORGIVEN: 8.2}
    assert cat.numbers([AMELIE], "votes") == {AMELIE: 750000.0}
    assert cat.numbers(None, "Gross") == {AMELIE: 33.2e6, UNFORGIVEN: 101157447.0}
    assert cat.numbers(None, "Certificate") == {} and cat.numbers(None, "composer") == {}
    shortest = min(cat.numbers(None, "runtime").items(), key=lambda kv: kv[1])
    assert shortest == (AMELIE, 122.0)
    with pytest.raises(PlanError, match="director is not a number"):
        cat.numbers(None, "director")


def test_number_helpers():
    assert [number_text(x) for x in (1979, "1979", 8.0, 8.25, "1983.0", "good")] == [
        "1979", "1979", "8", "8.25", "1983", "good"]
    assert [parse_number(x) for x in ("42", "87%", "$2,624,551", "$45.13 million", "$1.2 billion")] == [
        42.0, 87.0, 2624551.0, 45.13e6, 1.2e9]
    assert parse_number("good") is None and parse_number("1920, 1931") is None and parse_number("A") is None


# ---------------------------------------------------------------- what the catalog has

def test_coverage_and_fields(cat):
    assert cat.coverage("director") == cat.coverage("title") == 8
    assert cat.coverage(Rel.RUNTIME) == 2 and cat.coverage("votes") == 2
    assert cat.coverage("rating") == 3  # Kismet's KB word counts; numbers() has only the two numbers
    assert cat.coverage("language") == 3 and cat.coverage("tag") == 1 and cat.coverage("writer") == 6
    assert cat.coverage("plot") == 6 and cat.coverage("gross") == 2
    assert cat.coverage("composer") == 0
    fields = cat.fields()
    assert fields["actor"] == 8 and fields["runtime"] == 2 and fields["Gross"] == 2 and fields["IMDb rating"] == 1
    assert "composer" not in fields and all(fields.values())


def test_vocabulary(cat):
    assert cat.vocabulary("genre") == ["Action", "Comedy", "Crime", "Drama", "Romance", "Science Fiction",
                                       "Thriller", "Western"]
    assert cat.vocabulary("language") == ["English", "French"]
    assert cat.vocabulary("tag") == ["bd-r"]
    assert cat.vocabulary("title").count("Scarface") == 1 and "Amélie" in cat.vocabulary("title")
    people = cat.vocabulary("person")
    assert people.count("Christopher Nolan") == 1 and people.count("Clint Eastwood") == 1
    assert "Peter Benchley" in people and "Al Pacino" in people and people == sorted(people)
    assert cat.vocabulary("director") == sorted({d for m in cat._movies.values() for d in m.directors})
    assert cat.vocabulary("field") == list(cat.fields())
    with pytest.raises(PlanError, match="unknown vocabulary"):
        cat.vocabulary("composer")


def test_extra(cat):
    assert cat.extra(None, "gross") == {AMELIE: "$33.2 million", UNFORGIVEN: "$101,157,447"}
    assert cat.extra([UNFORGIVEN, JAWS], "Certificate") == {UNFORGIVEN: "R"}
    assert cat.extra([KISMET], "imdb rating") == {KISMET: "good"}
    assert cat.extra(None, "Budget") == {}


def test_thread_safe(cat):
    calls = [lambda: cat.follow(["christopher nolan"], "director", back=True),
             lambda: cat.filter(None, Constraints(genre="Crime", year_from=1980)),
             lambda: cat.numbers(None, "year"), lambda: cat.films_named("scarface"),
             lambda: cat.people_named("clint eastwood"), lambda: cat.vocabulary("person")] * 50
    expected = [call() for call in calls]
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(lambda call: call(), calls)) == expected


def test_duckdb_alternative_agrees(films, cat):
    """The engine benchmarks/catalog_store.py measures against: same answers on the same catalog."""
    pytest.importorskip("duckdb")
    from benchmarks.catalog_store import DuckCatalog, threads_agree, time_calls, workload

    duck = DuckCatalog.from_movies(films)
    calls = [("films_named", ("scarface",)), ("films_named", ("Kismet", 1955)),
             ("people_named", ("JEAN PIERRE JEUNET",)),
             ("follow", ([KISMET, AMELIE, JAWS], "language")), ("follow", (["crime", "x"], "genre", True)),
             ("follow", ([1983], "year", True)), ("follow", ([JAWS], "plot")), ("extra", (None, "gross")),
             ("numbers", (None, "Gross")), ("numbers", ([JAWS], "year")), ("coverage", ("rating",)),
             ("filter", (None, Constraints(genre="Crime", year_from=1980))), ("vocabulary", ("person",)),
             ("film", (AMELIE,)), ("all_films", ())]
    for name, args in calls:
        assert getattr(duck, name)(*args) == getattr(cat, name)(*args), name
    assert len(duck) == len(cat)
    work = workload(cat, 5, seed=0)  # the benchmark's own calls and its thread check
    assert {name: time_calls(cat, fns)[1] for name, fns in work.items()} == (
        expected := {name: time_calls(duck, fns)[1] for name, fns in work.items()})
    assert threads_agree(duck, work, expected) and threads_agree(cat, work, expected)


# ---------------------------------------------------------------- what build and add write, and open reads

@pytest.fixture
def built(sample_csv, settings, fake_embedder) -> Path:
    build_index([str(sample_csv)], settings.index.index_dir, settings, embedder=fake_embedder)
    return Path(settings.index.index_dir)


def test_build_writes_what_open_reads(built, movies):
    cat = Catalog.open(built)
    stored = load_movies(built)
    assert cat.all_films() == [m.id for m in stored] and len(cat) == len(movies)
    assert all(cat.film(m.id) == m for m in stored)
    assert cat.films_named("scarface") == [SCARFACE_32, SCARFACE_83]
    assert cat.follow(["Christopher Nolan"], "director", back=True)["Christopher Nolan"] == [INCEPTION, DARK_KNIGHT]
    # the edge table is written beside the movies, listed in the manifest (swapped in with the rest)
    assert "edges.parquet" in read_manifest(built)["files"]
    edges = pd.read_parquet(built / "edges.parquet")
    pd.testing.assert_frame_equal(edges, edges_frame(stored))
    assert {"director", "writer", "actor", "genre", "title", "year"} <= set(edges["rel"])


def test_add_upserts_the_catalog(built, movies, settings, tmp_path, fake_embedder):
    changed = [Movie(title="Jaws", year=1975, directors=["Steven Spielberg"], cast=["Roy Scheider"],
                     genres=["Thriller", "Adventure"], runtime_min=124, plot=movies[1].plot),
               Movie(title="Alien", year=1979, directors=["Ridley Scott"], runtime_min=117, plot="In space.")]
    add_to_index(str(built), [str(write_sample_csv(changed, tmp_path / "sample.csv"))], settings,
                 embedder=fake_embedder)
    cat = Catalog.open(built)
    assert len(cat) == 6 and cat.films_named("alien") == ["alien (1979)"]
    assert cat.numbers(None, "runtime") == {JAWS: 124.0, "alien (1979)": 117.0}
    assert cat.follow(["adventure"], "genre", back=True) == {"adventure": [JAWS]}
    assert pd.read_parquet(built / "edges.parquet")["film"].nunique() == 6


def test_index_without_edges_file_still_loads(built):
    """Indexes from before edges.parquet: the catalog derives its edges, the index loads."""
    (built / "edges.parquet").unlink()
    manifest = json.loads((built / "manifest.json").read_text())
    del manifest["files"]["edges.parquet"]
    (built / "manifest.json").write_text(json.dumps(manifest))
    assert Catalog.open(built).films_named("jaws") == [JAWS]
    assert len(load_index(built)) == manifest["passages"]


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "movies.parquet").write_bytes(b"x" * (d / "movies.parquet").stat().st_size),
     "corrupt movies.parquet"),
    (lambda d: (d / "movies.parquet").unlink(), "movies.parquet is missing"),
    (lambda d: (d / "movies.parquet").write_bytes(b"short"), "movies.parquet has 5 bytes"),
])
def test_open_refuses_broken_movies_file(built, damage, message):
    damage(built)
    with pytest.raises(IndexLoadError, match=message) as err:
        Catalog.open(built)
    assert "\n" not in str(err.value)


def test_open_missing_index(tmp_path):
    with pytest.raises(IndexLoadError, match="no index here") as err:
        Catalog.open(tmp_path / "nothing")
    assert "\n" not in str(err.value)
