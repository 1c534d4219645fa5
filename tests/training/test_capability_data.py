"""training.capability_data: the capability sets on a tiny default catalog (an index built with a fake embedder) and
tiny description catalogs: splits by film, the held-out phrasing group only in test, the 8-word overlap filter."""
from __future__ import annotations

import csv
import json

import pytest

from core.config import Settings
from core.errors import DataError
from core.records import Movie
from index.build import build_index
from index.catalog import Catalog
from tests.index.conftest import FakeEmbedder, write_sample_csv
from training.capability_data import (
    CAPABILITIES,
    CapabilityDataConfig,
    GroupCycle,
    Splitter,
    read_records,
    write_capability_data,
)
from training.capability_data_text import (
    HELD_OUT,
    as_clause,
    common_words,
    description_sentences,
    partial,
    shares_long_run,
)

GENRES = ["Comedy", "Drama", "Horror", "Thriller", "Action", "Romance"]
JOBS = ["baker", "pilot", "teacher", "sailor", "nurse", "farmer", "painter", "miner"]
PLACES = ["Lisbon", "Oslo", "Cairo", "Lima", "Hanoi", "Quebec", "Dakar", "Perth"]


def _world() -> tuple[list[Movie], list[dict]]:
    """60 catalog films (a remake pair among them) and, for each, an independently worded description; the first
    description copies its film's plot word for word (the overlap filter must drop it)."""
    movies, described = [], []
    for i in range(60):
        job, place = JOBS[i % 8], PLACES[(i // 8) % 8]
        title = "Scarface" if i in (0, 1) else f"Harbour Story {i}"
        movies.append(Movie(
            title=title, year=1950 + i, directors=[f"Director {i % 7}"], cast=[f"Actor {i % 11}", f"Actor {i % 5}"],
            genres=[GENRES[i % 6], GENRES[(i + 1) % 6]], tags=[f"tag{i % 4}"],
            plot=f"A retired {job} from {place} finds an old map and sets out to recover a lost family fortune. "
                 f"Along the way the {job} meets a stranger who knows more than he says."))
        described.append({"Title": title, "Year": 1950 + i, "Genre": GENRES[i % 6], "Director": f"Director {i % 7}",
                          "Actors": f"Actor {i % 11}", "Description":
                          movies[-1].plot if i == 2 else
                          f"In {place}, a {job} who has left work behind chases a fortune his relatives once lost, "
                          f"guided only by a faded chart. A mysterious traveller joins the search for reasons of "
                          f"his own."})
    described += [{"Title": "Scarface 2", "Year": 2016, "Genre": "Crime", "Director": "Nobody", "Actors": "None",
                   "Description": "A sequel nobody made."},
                  {"Title": "Totally Unknown Picture", "Year": 2016, "Genre": "Drama", "Director": "Nobody",
                   "Actors": "None", "Description": "A film no catalog here has."}]
    return movies, described


def _write_imdb(rows: list[dict], path) -> str:
    columns = ["Rank", "Title", "Genre", "Description", "Director", "Actors", "Year", "Runtime (Minutes)", "Rating",
               "Votes", "Revenue (Millions)", "Metascore"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        for i, row in enumerate(rows, 1):
            writer.writerow({"Rank": i, "Runtime (Minutes)": 100, "Rating": 7.0, "Votes": 1000,
                             "Revenue (Millions)": "", "Metascore": "", **row})
    return str(path)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(sets folder, report, catalog) generated from the tiny world."""
    tmp = tmp_path_factory.mktemp("capability")
    movies, described = _world()
    settings = Settings().with_overrides(index_dir=str(tmp / "index"), progress=False)
    build_index([str(write_sample_csv(movies, tmp / "catalog.csv"))], settings.index.index_dir, settings,
                embedder=FakeEmbedder())
    imdb = _write_imdb(described, tmp / "imdb_movie_data_1000.csv")
    config = CapabilityDataConfig(description_catalogs=[imdb], absent_catalogs=[imdb], train_questions=60,
                                  dev_questions=30, test_questions=60, dev_share=0.2, test_share=0.4,
                                  min_identify_test=0, identify_per_film=2)
    report = write_capability_data(config, tmp / "sets", settings)
    return tmp / "sets", report, Catalog.open(settings.index.index_dir)


def test_shares_long_run_finds_nine_copied_words_through_case_and_punctuation():
    plot = "A retired baker from Lisbon finds an old map and sets out to recover a lost fortune."
    assert shares_long_run("what's the film where a RETIRED baker, from Lisbon, finds an old map and sets", [plot])
    assert not shares_long_run("the movie where a retired baker from Lisbon finds an old chart", [plot])  # 8 words
    assert shares_long_run("a retired baker from lisbon finds an old map", [plot], max_run=7)
    assert not shares_long_run("short", [plot])


def test_description_text_becomes_clauses():
    text = ("In 1933, a child (Xavier Atkins) runs away from an orphanage[3]. "
            "He is adopted by a kind commander of a unit.")
    sentences = description_sentences(text)
    assert sentences == ["In 1933, a child runs away from an orphanage"]  # the pronoun-led sentence is left out
    assert as_clause(sentences[0]).startswith("in 1933") and as_clause("Leo Demidov becomes a hero").startswith("Leo")
    assert description_sentences("Max, a dog used to help U.S. Marines in Afghanistan, is handled by Kyle. "
                                 "Dr. Jones and John F. Kennedy meet in a small town by the sea.") == [
        "Max, a dog used to help U.S. Marines in Afghanistan, is handled by Kyle",
        "Dr. Jones and John F. Kennedy meet in a small town by the sea"]
    assert as_clause("Ten years have passed since the murders") == "ten years have passed since the murders"
    common = common_words(["He wants to punish Max.", "Max hides."])
    assert as_clause("To punish Max, he hides", common) == "to punish Max, he hides"
    assert as_clause("Max hides from the prince", common) == "Max hides from the prince"
    assert partial("a retired baker from lisbon finds an old map and sets out to", 10) == \
        "a retired baker from lisbon finds an old map"


def test_splitter_is_seeded_and_group_cycle_holds_out_one_group():
    split = Splitter(42, 0.1, 0.2)
    keys = [f"film {i}" for i in range(2000)]
    shares = {s: sum(split(k) == s for k in keys) / len(keys) for s in ("train", "dev", "test")}
    assert [split(k) for k in keys] == [Splitter(42, 0.1, 0.2)(k) for k in keys]
    assert [split(k) for k in keys] != [Splitter(7, 0.1, 0.2)(k) for k in keys]
    assert abs(shares["test"] - 0.2) < 0.03 and abs(shares["dev"] - 0.1) < 0.03
    cycle = GroupCycle(["a", "b", "c"], "c")
    assert {cycle("train") for _ in range(9)} == {"a", "b"} and {cycle("test") for _ in range(9)} == {"a", "b", "c"}


def test_every_set_holds_out_its_group_from_train_and_dev(built):
    folder, report, _ = built
    for capability in CAPABILITIES:
        rows = {s: read_records(folder / f"{capability}_{s}.jsonl") for s in ("train", "dev", "test")}
        assert rows["train"] and rows["test"], capability
        held = HELD_OUT[capability]
        assert not [r for s in ("train", "dev") for r in rows[s] if r["group"] == held or r["held_out"]], capability
        assert any(r["group"] == held and r["held_out"] for r in rows["test"]), capability
        assert len({r["group"] for r in rows["test"]}) >= 4, capability
        assert all(r["capability"] == capability and r["id"].startswith(capability) for s in rows for r in rows[s])
        assert report[capability]["splits"]["test"] == len(rows["test"])


def test_splits_are_by_film(built):
    folder, _, _ = built
    for capability, key in (("identify", "gold"), ("describe", "gold"), ("recommend", "topic")):
        films = {s: {r[key]["id"] for r in read_records(folder / f"{capability}_{s}.jsonl")}
                 for s in ("train", "dev", "test")}
        assert not films["train"] & films["test"] and not films["dev"] & films["test"], capability


def test_identify_drops_copied_descriptions_and_keeps_gold_and_twins(built):
    folder, report, catalog = built
    notes = report["identify"]["notes"]
    assert notes["dropped: shares more than 8 words with the film's plot"] >= 1
    rows = [r for s in ("train", "dev", "test") for r in read_records(folder / f"identify_{s}.jsonl")]
    assert rows and all(not shares_long_run(r["question"], [catalog.film(r["gold"]["id"]).plot]) for r in rows)
    scarface = [r for r in rows if r["gold"]["title"] == "Scarface"]
    assert scarface and all(r["ambiguous"] and len(r["accept"]) == 2 for r in scarface)
    assert all(r["gold_keys"] == [f"plot:{r['gold']['id']}"] and r["answers"] == [r["gold"]["title"]] for r in rows)


def test_recommend_constraints_are_data(built):
    folder, _, catalog = built
    rows = [r for s in ("train", "dev", "test") for r in read_records(folder / f"recommend_{s}.jsonl")]
    kinds = {r["kind"] for r in rows}
    assert {"none", "older", "newer"} <= kinds
    pairs = {(r["group"], r["kind"]) for r in rows}
    assert len(pairs) > len({r["group"] for r in rows}) + 2  # constraint kinds are not tied to phrasing groups
    for r in rows:
        year = catalog.film(r["topic"]["id"]).year
        assert (r["constraints"]["year_to"] == year - 1) == (r["kind"] == "older")
        assert (r["constraints"]["year_from"] == year + 1) == (r["kind"] == "newer")
        assert (r["constraints"]["genre"] is not None) == (r["kind"] == "genre")


def test_abstain_kinds_and_control(built):
    folder, report, catalog = built
    rows = [r for s in ("train", "dev", "test") for r in read_records(folder / f"abstain_{s}.jsonl")]
    by_kind = {k: [r for r in rows if r["kind"] == k] for k in {r["kind"] for r in rows}}
    assert {"near_miss", "absent_film", "changed_year", "absent_field", "off_topic", "control"} <= set(by_kind)
    assert {r["film"]["title"] for r in by_kind["near_miss"]} == {"Scarface 2"}
    assert {r["film"]["title"] for r in by_kind["absent_film"]} == {"Totally Unknown Picture"}
    assert all(not catalog.films_named(r["film"]["title"], r["film"]["year"]) for r in by_kind["changed_year"])
    assert all(r["expect_abstain"] is False and r["answers"] for r in by_kind["control"])
    assert all(r["expect_abstain"] for k, rs in by_kind.items() if k != "control" for r in rs)
    questions = [r["question"] for r in rows]
    assert len(questions) == len(set(questions))


def test_held_out_catalog_and_unknown_capability_are_refused(tmp_path):
    settings = Settings().with_overrides(index_dir=str(tmp_path / "none"), progress=False)
    with pytest.raises(DataError, match="held out"):
        write_capability_data(CapabilityDataConfig(description_catalogs=["catalogs/imdb_top_1000.csv"],
                                                   capabilities=("identify",)), tmp_path / "x", settings)
    with pytest.raises(DataError, match="unknown capability"):
        write_capability_data(CapabilityDataConfig(capabilities=("summarise",)), tmp_path / "x", settings)


def test_command_writes_the_sets(tmp_path, capsys, built):
    from cli.main import training_main

    folder, _, _ = built
    index = folder.parent / "index"
    code = training_main(["capability-data", "--out", str(tmp_path / "sets"), "--index", str(index),
                          "--capabilities", "describe,recommend", "--train-questions", "10", "--test-questions", "10",
                          "--seed", "7"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and set(out) >= {"describe", "recommend"} and "identify" not in out
    assert (tmp_path / "sets" / "describe_test.jsonl").exists() and (tmp_path / "sets" / "report.json").exists()
