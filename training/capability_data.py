"""Evaluation sets for the open capabilities (`python -m training capability-data --out DIR`): identify, describe,
recommend and abstain, measured against the shipped default catalog (the index at settings.index.index_dir,
built from data/: the WikiMovies KB and plots, TMDB 9000+ and the sample; all training catalogs).

    identify    "What's the movie where …": descriptions written independently of the catalog's plots (the
                Wikipedia plots sample and IMDB-Movie-Data descriptions of films the default catalog also has),
                whole, cut short or lower-cased; no question shares a run of more than 8 words with the film's
                indexed plot or overview, and none names the film (both checked here, the drops counted).
    describe    "Tell me about X": gold the film and its overview (BERTScore reference) and card facts.
    recommend   "Films like X [but older | from after 1990 | but a comedy]": gold the topic film and the
                constraints as data (year_from, year_to, genre).
    abstain     films the catalog lacks (real titles of the other training catalogs: absent_film, and near_miss
                when a catalog title looks alike), catalog titles with a year no version has (changed_year), fields
                the catalog lacks (absent_field), off-topic questions, and a control of present films asked
                normally (expect_abstain false).

Splits are by film (seeded hash of the film id; of the title or the question text where there is no catalog film),
so no film is in two splits. Each capability has five phrasing groups (training.capability_data_text); the group
named in HELD_OUT appears in the test split only. Files (not shipped; runs/ is ignored by git):
    {capability}_{train,dev,test}.jsonl   one record per question: core.records.Question fields plus id,
                                          capability, split, group, held_out and the capability's gold fields
    report.json                           counts by split, group and kind; questions dropped and why
Never read: ../shared/data/catalogs/imdb_top_1000.csv (held out for independent checks).
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.config import REPO_ROOT, Settings
from core.errors import DataError
from core.records import Movie, Question
from index.catalog import Catalog
from training.capability_data_text import HELD_OUT

SHARED = REPO_ROOT.parent / "shared" / "data"
CAPABILITIES = ("identify", "describe", "recommend", "abstain")
SPLITS = ("train", "dev", "test")
HELD_OUT_CATALOG = "imdb_top_1000"
DESCRIPTION_CATALOGS = ("catalogs/wiki_movie_plots_sample.csv", "catalogs/imdb_movie_data_1000.csv")
ABSENT_CATALOGS = (*DESCRIPTION_CATALOGS, "catalogs/vega_movies.json")


@dataclass
class CapabilityDataConfig:
    capabilities: tuple[str, ...] = CAPABILITIES  # which sets to write (comma-separated)
    shared_data: str = str(SHARED)  # folder holding catalogs/ (the description and absent-title catalogs)
    description_catalogs: list[str] = field(default_factory=lambda: list(DESCRIPTION_CATALOGS))  # identify texts
    absent_catalogs: list[str] = field(default_factory=lambda: list(ABSENT_CATALOGS))  # real titles to test absence
    train_questions: int = 1200  # at most this many questions per capability in the train split
    dev_questions: int = 200  # at most this many questions per capability in the dev split
    test_questions: int = 400  # at most this many per capability in the test split (identify: what its films give)
    identify_per_film: int = 3  # identify questions per described film (different sentences and groups)
    dev_share: float = 0.1  # share of films in the dev split
    test_share: float = 0.2  # share of films in the test split
    max_shared_run: int = 8  # identify questions sharing a longer word run with the film's plot are dropped
    min_identify_test: int = 200  # fewer identify test questions than this is an error (too small to measure)
    seed: int = 42  # split and sampling seed


@dataclass(frozen=True)
class Splitter:
    """Film (or title, or question text) → split, by a seeded hash: stable, and independent of sampling order."""

    seed: int
    dev_share: float
    test_share: float

    def __call__(self, key: str) -> str:
        x = int(hashlib.sha256(f"{self.seed}|{key}".encode()).hexdigest()[:12], 16) / 16 ** 12
        return "test" if x < self.test_share else "dev" if x < self.test_share + self.dev_share else "train"


class GroupCycle:
    """The phrasing group of the next question of a split, round robin: the held-out group only in test."""

    def __init__(self, groups: list[str], held_out: str) -> None:
        self.groups = {s: [g for g in groups if s == "test" or g != held_out] for s in SPLITS}
        self.turn: Counter = Counter()

    def __call__(self, split: str) -> str:
        groups = self.groups[split]
        self.turn[split] += 1
        return groups[(self.turn[split] - 1) % len(groups)]


def film_ref(movie: Movie) -> dict:
    return {"title": movie.title, "year": movie.year, "id": movie.id}


def twins(catalog: Catalog, movie: Movie) -> list[dict]:
    """The other films of the catalog with the same (normalised) title: remakes an answer may confuse it with."""
    return [film_ref(catalog.film(i)) for i in catalog.films_named(movie.title) if i != movie.id]


def record(capability: str, split: str, group: str, question: str, answers: list[str], *, entity: str | None,
           gold_keys: list[str], source: str, kind: str | None = None, **extra) -> dict:
    """One question record: the Question fields plus what the capability's scorer needs."""
    q = Question(question=question, answers=answers, type=f"{capability}/{kind or group}", entity=entity,
                 source=source, gold_keys=gold_keys)
    return {"capability": capability, "split": split, "group": group, "held_out": group == HELD_OUT[capability],
            "kind": kind, **q.to_dict(), **extra}


def caps(config: CapabilityDataConfig) -> dict[str, int]:
    return {"train": config.train_questions, "dev": config.dev_questions, "test": config.test_questions}


def catalog_path(config: CapabilityDataConfig, name: str) -> str:
    path = name if Path(name).exists() else str(Path(config.shared_data) / name)
    if HELD_OUT_CATALOG in Path(path).name:
        raise DataError(f"{path}: held out for independent checks; never generate from it")
    return path


def read_movies(config: CapabilityDataConfig, names: list[str], settings: Settings) -> dict[str, list[Movie]]:
    """The films of each catalog (file name → its Movie records); a missing file is a one-line error."""
    from index.sources import read_catalog  # deferred: the format readers (pandas)

    out = {}
    for name in names:
        path = catalog_path(config, name)
        if not Path(path).is_file():
            raise DataError(f"{path} not found (set --shared-data to the folder holding catalogs/)")
        out[Path(path).name] = read_catalog(path, settings).movies
    return out


def write_capability_data(config: CapabilityDataConfig, out_dir: str | Path, settings: Settings) -> dict:
    """Write the capability sets into `out_dir` (created) and return the report (also report.json).

    Args:
        config: capabilities, catalogs, questions per split, shares, the overlap limit and the seed.
        out_dir: the output folder.
        settings: the catalog index (`settings.index.index_dir`) and catalog reading limits.

    Raises:
        DataError: an unknown capability, a missing catalog, the held-out catalog named, or fewer identify test
            questions than `config.min_identify_test` (the description catalogs are too small for a meaningful test).
        IndexLoadError: no index at `settings.index.index_dir`.
    """
    from training.capability_data_abstain import AbstainMaker  # the makers import this module's helpers
    from training.capability_data_sets import DescribeMaker, IdentifyMaker, RecommendMaker

    unknown = [c for c in config.capabilities if c not in CAPABILITIES]
    if unknown:
        raise DataError(f"unknown capability {unknown[0]!r} (choose from {', '.join(CAPABILITIES)})")
    for name in (*config.description_catalogs, *config.absent_catalogs):
        catalog_path(config, name)  # the held-out catalog is refused before anything is read
    catalog = Catalog.open(settings.index.index_dir)
    split = Splitter(config.seed, config.dev_share, config.test_share)
    report: dict = {"config": asdict(config), "index": settings.index.index_dir, "catalog_films": len(catalog),
                    "held_out_groups": {c: HELD_OUT[c] for c in config.capabilities}}
    makers = {"identify": lambda: IdentifyMaker(catalog, read_movies(config, config.description_catalogs, settings),
                                                split, config),
              "describe": lambda: DescribeMaker(catalog, split, config),
              "recommend": lambda: RecommendMaker(catalog, split, config),
              "abstain": lambda: AbstainMaker(catalog, read_movies(config, config.absent_catalogs, settings),
                                              split, config)}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for capability in config.capabilities:
        maker = makers[capability]()
        records = maker()
        report[capability] = write_records(records, capability, out) | {"notes": dict(maker.notes)}
        found = report[capability]["splits"].get("test", 0)
        if capability == "identify" and found < config.min_identify_test:
            raise DataError(f"only {found} identify test questions (need {config.min_identify_test}): "
                            f"raise --identify-per-film or --test-share")
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return report


def write_records(records: list[dict], capability: str, out: Path) -> dict:
    """{capability}_{split}.jsonl with ids; the counts by split, group and kind."""
    counts: dict = {"splits": {}, "groups": {}, "kinds": {}}
    for split in SPLITS:
        rows = [r for r in records if r["split"] == split]
        with open(out / f"{capability}_{split}.jsonl", "w", encoding="utf-8") as fh:
            for i, row in enumerate(rows):
                fh.write(json.dumps({"id": f"{capability}-{split}-{i:05d}", **row}, ensure_ascii=False) + "\n")
        counts["splits"][split] = len(rows)
        counts["groups"][split] = dict(Counter(r["group"] for r in rows))
        if any(r.get("kind") for r in rows):
            counts["kinds"][split] = dict(Counter(r["kind"] for r in rows))
    return counts


def read_records(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
