"""Labelled planner questions (`python -m training plan-data`): generated from the training catalogs and the
WikiMovies KB (training.plan_generate with the templates of training.plan_templates), plus WikiMovies and MetaQA
dev questions (training.plan_bench), plus evaluation sets with gold answers (training.plan_evalset).

Every question carries its label (the plan without entities, e.g. "lookup < actor > director"), the gold plan,
its entities with character spans, and its constraints. Template groups are split dev/test (seed 42): test
phrasings never reach training. Files written into one folder (not shipped):
    questions_dev.jsonl, questions_test.jsonl   generated questions of dev / test template groups
    bench_dev.jsonl                             WikiMovies + MetaQA dev questions with labels (2-hop: weak labels)
    eval_dev.jsonl, eval_test.jsonl             `rag eval` questions with gold answers, ≥ 50 per type
    report.json                                 counts, the group split, weak-labelling statistics
Never read: ../shared/data/catalogs/imdb_top_1000.csv (held out) and any test question file.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.config import REPO_ROOT, Settings
from core.errors import DataError
from core.records import Movie
from index.sources import combine, read_catalogs
from training.plan_bench import bench_questions
from training.plan_evalset import eval_questions
from training.plan_generate import Pools, generate
from training.plan_templates import all_templates

SHARED = REPO_ROOT.parent / "shared" / "data"
TRAINING_CATALOGS = ("wikimovies/kb.txt.gz", "catalogs/tmdb_9000plus.csv", "catalogs/imdb_movie_data_1000.csv",
                     "catalogs/vega_movies.json", "catalogs/wiki_movie_plots_sample.csv")
HELD_OUT = "imdb_top_1000"


@dataclass
class PlanDataConfig:
    catalogs: list[str] = field(default_factory=lambda: list(TRAINING_CATALOGS))  # under shared_data, or paths
    shared_data: str = str(SHARED)  # folder with catalogs/, wikimovies/ and metaqa/ (dev files only are read)
    per_label: int = 150  # questions per label from dev template groups (training + validation)
    open_per_label: int = 600  # the same for describe, identify, recommend and off-topic (one label, many phrasings)
    test_per_label: int = 40  # questions per label from held-out test template groups
    test_share: float = 0.2  # share of each template family's groups held out for test
    eval_per_type: int = 60  # evaluation questions with gold answers per type and split
    bench: bool = True  # also label WikiMovies and MetaQA dev questions (bench_dev.jsonl)
    seed: int = 42  # template split and sampling seed


def catalog_paths(config: PlanDataConfig) -> list[str]:
    """The catalog files (names under shared_data, or paths); the held-out catalog and test files are refused."""
    paths = [p if Path(p).exists() else str(Path(config.shared_data) / p) for p in config.catalogs]
    bad = [p for p in paths if HELD_OUT in Path(p).name or "test" in Path(p).name]
    if bad:
        raise DataError(f"{bad[0]}: held out for independent checks; never train or tune on it")
    return paths


def load_movies(config: PlanDataConfig, settings: Settings) -> list[Movie]:
    return combine(read_catalogs(catalog_paths(config), settings))


def write_plan_data(config: PlanDataConfig, out_dir: str | Path, settings: Settings) -> dict:
    """Write the planner's training, test, benchmark-dev and evaluation files into `out_dir`.

    Args:
        config: catalogs, questions per label, test share, evaluation questions per type, benchmarks, seed.
        out_dir: the folder to write (created).
        settings: `settings.index.max_field_chars` for reading the catalogs.

    Returns:
        The report also written as report.json: counts per split, label, type and source.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pools = Pools(load_movies(config, settings))
    questions, split_of = generate(pools, config.per_label, config.test_per_label, config.test_share, config.seed,
                                  config.open_per_label)
    report: dict = {"config": asdict(config), "films": len(pools.films), "labels": len({q["label"] for q in questions}),
                    "groups": dict(Counter(split_of.values())), "test_groups": sorted(g for g, s in split_of.items()
                                                                                     if s == "test")}
    for split in ("dev", "test"):
        rows = [q for q in questions if q["split"] == split]
        write_jsonl(rows, out / f"questions_{split}.jsonl")
        report[f"questions_{split}"] = len(rows)
        evals = eval_questions(pools, all_templates(), split_of, split, config.eval_per_type, config.seed)
        write_jsonl(evals, out / f"eval_{split}.jsonl")
        report[f"eval_{split}"] = dict(Counter(q["type"] for q in evals))
    if config.bench:
        bench, bench_report = bench_questions(config.shared_data, settings)
        write_jsonl(bench, out / "bench_dev.jsonl")
        report["bench"] = bench_report
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return report


def write_jsonl(rows: list[dict], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
