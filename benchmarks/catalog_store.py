"""The catalog store's engine, chosen by measurement: dict indexes (index.catalog.Catalog) vs DuckDB (DuckCatalog
below, the same API over an in-memory DuckDB database with ART indexes on the lookup columns).

    python -m benchmarks.catalog_store --index /tmp/wm_only --out FILE.json [--tmdb CSV] [--calls 300]

For the index's catalog and for TMDB (read with index.sources.read_catalog and written as an index's catalog
files in a temporary folder), it measures per engine: open time and the resident memory the open adds (median
of fresh processes), and the p50/p95 latency of the calls the executor makes (films_named, one hop each way,
2- and 3-hop chains, a year + genre filter over every film, numbers over every film + argmin, a count, film()).
Every call's answer is compared between the engines, and the whole workload is rerun from 4 threads at once
against the single-thread answers. Call types a catalog cannot serve (TMDB has no people) are left out.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pandas as pd

from benchmarks.common import SHARED_DATA, rss_mb, stats, write_json
from core.config import Settings
from core.errors import PlanError
from core.records import Movie, normalize
from index.catalog import NUMERIC, PEOPLE, RELATIONS, Catalog, number_text, parse_number
from index.sources import read_catalog
from index.store import (
    MANIFEST,
    SCHEMA_VERSION,
    edges_frame,
    load_movies,
    movies_frame,
    movies_from_frame,
    read_manifest,
)
from rag.plan import Constraints, Hop, Rel

TMDB = SHARED_DATA / "catalogs" / "tmdb_9000plus.csv"
_COLUMN = {"year": "year", "rating": "rating", "votes": "votes", "runtime": "runtime_min"}
_EDGES_SQL = ("CREATE TABLE edges AS SELECT row_number() OVER () - 1 AS idx, film, rel, value, key, "
              "rel || chr(31) || key AS rk, rel || chr(31) || film AS rf FROM {source}")


class DuckCatalog:
    """index.catalog.Catalog's API over DuckDB: films (movies.parquet) and edges (edges.parquet) tables; rk and rf
    are "rel\\x1fkey" and "rel\\x1ffilm" with an ART index each, so every lookup is one index scan. One cursor
    per thread (DuckDB cursors are not thread-safe; the connection's database is shared)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        for sql in ("CREATE INDEX e_rk ON edges (rk)", "CREATE INDEX e_rf ON edges (rf)",
                    "CREATE INDEX f_id ON films (id)"):
            con.execute(sql)
        self._con, self._local = con, threading.local()
        self._n = con.execute("SELECT count(*) FROM films").fetchone()[0]
        rels = [r for (r,) in con.execute("SELECT DISTINCT rel FROM edges").fetchall()]
        self._labels = {normalize(r): r for r in rels if r not in RELATIONS}

    @classmethod
    def open(cls, index_dir: str | Path) -> DuckCatalog:
        folder = Path(index_dir)
        read_manifest(folder)
        con = duckdb.connect(":memory:")
        con.execute("CREATE TABLE films AS SELECT row_number() OVER () - 1 AS idx, * "
                    f"FROM read_parquet({_quote(folder / 'movies.parquet')})")
        if (folder / "edges.parquet").is_file():
            con.execute(_EDGES_SQL.format(source=f"read_parquet({_quote(folder / 'edges.parquet')})"))
        else:
            con.register("new_edges", edges_frame(load_movies(folder)))
            con.execute(_EDGES_SQL.format(source="new_edges"))
        return cls(con)

    @classmethod
    def from_movies(cls, movies: list[Movie]) -> DuckCatalog:
        con = duckdb.connect(":memory:")
        con.register("new_films", movies_frame(movies))
        con.register("new_edges", edges_frame(movies))
        con.execute("CREATE TABLE films AS SELECT row_number() OVER () - 1 AS idx, * FROM new_films")
        con.execute(_EDGES_SQL.format(source="new_edges"))
        return cls(con)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._local.cur = self._con.cursor()
        return cur

    def _sql(self, sql: str, params: list | None = None) -> list[tuple]:
        return self._cursor().execute(sql, params or []).fetchall()

    def __len__(self) -> int:
        return self._n

    def film(self, film_id: str) -> Movie:
        df = self._cursor().execute("SELECT * EXCLUDE (idx) FROM films WHERE id = ?", [film_id]).df()
        if df.empty:
            raise PlanError(f"no film {film_id!r} in the catalog")
        return movies_from_frame(df)[0]

    def all_films(self) -> list[str]:
        return [f for (f,) in self._sql("SELECT id FROM films ORDER BY idx")]

    def films_named(self, title: str, year: int | None = None) -> list[str]:
        if year is None:
            return [f for (f,) in self._sql("SELECT film FROM edges WHERE rk = ? ORDER BY idx",
                                            ["title\x1f" + normalize(title)])]
        return [f for (f,) in self._sql(
            "SELECT e.film FROM edges e WHERE e.rk = ? AND EXISTS (SELECT 1 FROM edges y "
            "WHERE y.rf = 'year' || chr(31) || e.film AND y.value = ?) ORDER BY e.idx",
            ["title\x1f" + normalize(title), str(year)])]

    def people_named(self, name: str) -> list[str]:
        rows = self._sql("SELECT value FROM edges WHERE rk IN (SELECT unnest(?)) GROUP BY value "
                         "ORDER BY min(list_position(?, rel)), min(idx)",
                         [[f"{r}\x1f{normalize(name)}" for r in PEOPLE], list(PEOPLE)])
        return [v for (v,) in rows]

    def follow(self, sources, hop, back: bool | None = None) -> dict:
        rel = str(getattr(hop, "rel", hop))
        back = bool(getattr(hop, "back", False) if back is None else back)
        field = self._field(rel)
        sources = list(sources)
        if field == "plot":
            plots = dict(self._sql("SELECT id, plot FROM films WHERE id IN (SELECT unnest(?))", [sources]))
            return {f: [plots[f]] if plots.get(f) else [] for f in sources}
        if not back:
            out: dict = {f: [] for f in sources}
            for film, value in self._sql("SELECT film, value FROM edges WHERE rf IN (SELECT unnest(?)) ORDER BY idx",
                                         [[f"{field}\x1f{f}" for f in sources]]):
                out[film].append(value)
            return out
        as_key = (lambda s: normalize(number_text(s))) if field in NUMERIC else (lambda s: normalize(str(s)))
        keys = {s: as_key(s) for s in sources}
        found: dict[str, dict[str, None]] = {k: {} for k in keys.values()}
        for key, film in self._sql("SELECT key, film FROM edges WHERE rk IN (SELECT unnest(?)) ORDER BY idx",
                                   [[f"{field}\x1f{k}" for k in found]]):
            found[key][film] = None
        return {s: list(found[keys[s]]) for s in sources}

    def extra(self, film_ids, key: str) -> dict[str, str]:
        values = self._first_values(self._field(key), film_ids)
        ids = self.all_films() if film_ids is None else film_ids
        return {f: values[f] for f in ids if f in values}

    def _first_values(self, rel: str, film_ids) -> dict[str, str]:
        sql = "SELECT film, first(value ORDER BY idx) FROM edges WHERE rel = ?"
        if film_ids is None:
            return dict(self._sql(sql + " GROUP BY film", [rel]))
        return dict(self._sql(sql + " AND film IN (SELECT unnest(?)) GROUP BY film", [rel, list(film_ids)]))

    def numbers(self, film_ids, rel) -> dict[str, float]:
        field = self._field(str(getattr(rel, "rel", rel)))
        if field in _COLUMN:
            col = _COLUMN[field]
            sql = f"SELECT id, {col}::DOUBLE FROM films WHERE {col} IS NOT NULL"
            rows = self._sql(sql) if film_ids is None else \
                self._sql(sql + " AND id IN (SELECT unnest(?))", [list(film_ids)])
            return dict(rows)
        if field in RELATIONS or field == "plot":
            raise PlanError(f"{field} is not a number")
        return {f: x for f, v in self._first_values(field, film_ids).items() if (x := parse_number(v)) is not None}

    def filter(self, film_ids, constraints) -> list[str]:
        where, params = [], []
        if film_ids is not None:
            where.append("id IN (SELECT unnest(?))")
            params.append(list(film_ids))
        for rel in ("genre", "language"):
            if wanted := getattr(constraints, rel, None):
                where.append("id IN (SELECT film FROM edges WHERE rk = ?)")
                params.append(f"{rel}\x1f{normalize(str(wanted))}")
        for col, name, op in (("year", "year_from", ">="), ("year", "year_to", "<="), ("rating", "min_rating", ">="),
                              ("runtime_min", "min_runtime", ">="), ("runtime_min", "max_runtime", "<=")):
            if (value := getattr(constraints, name, None)) is not None:
                where.append(f"{col} {op} ?")
                params.append(value)
        rows = self._sql(f"SELECT id FROM films WHERE {' AND '.join(where) or 'TRUE'} ORDER BY idx", params)
        if film_ids is None:
            return [f for (f,) in rows]
        keep = {f for (f,) in rows}
        return [f for f in film_ids if f in keep]

    def coverage(self, rel) -> int:
        field = self._field(str(getattr(rel, "rel", rel)))
        if field == "plot":
            return self._sql("SELECT count(*) FROM films WHERE plot <> ''")[0][0]
        return self._sql("SELECT count(DISTINCT film) FROM edges WHERE rel = ?", [field])[0][0]

    def vocabulary(self, kind: str) -> list[str]:
        rels = list(PEOPLE) if kind == "person" else [kind]
        return sorted(v for (v,) in self._sql("SELECT DISTINCT value FROM edges WHERE rel IN (SELECT unnest(?))",
                                              [rels]))

    def _field(self, rel: str) -> str:
        if rel in RELATIONS or rel == "plot":
            return rel
        return self._labels.get(normalize(rel), rel)


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


ENGINES: dict[str, type] = {"dicts": Catalog, "duckdb": DuckCatalog}


# ---------------------------------------------------------------- workload

Call = Callable[[object], object]


def _chain(cat, sources: list[str], hops: list[Hop]) -> list[str]:
    """What the executor does for a path: one follow() per hop, the union of the answers feeding the next."""
    for hop in hops:
        sources = list(dict.fromkeys(v for vs in cat.follow(sources, hop).values() for v in vs))
    return sources


def workload(cat: Catalog, n: int, seed: int) -> dict[str, list[Call]]:
    """Call type → n calls (functions of a catalog), drawn with `seed` from the catalog itself."""
    rng = random.Random(seed)
    films = rng.choices(cat.all_films(), k=n)
    titles = [cat.film(f).title for f in films]
    pick = {rel: cat.vocabulary(rel) for rel in ("actor", "director", "genre")}
    actors, directors = (rng.choices(pick[r], k=n) if pick[r] else [] for r in ("actor", "director"))
    genres = rng.choices(pick["genre"], k=n) if pick["genre"] else []
    decades = [rng.randrange(1930, 2020, 10) for _ in range(n)]
    argmin_rel = "rating" if cat.numbers(None, "rating") else "year"
    director, actor = Hop(Rel.DIRECTOR), Hop(Rel.ACTOR)
    back_actor, back_director = Hop(Rel.ACTOR, back=True), Hop(Rel.DIRECTOR, back=True)
    calls = {
        "films_named": [lambda c, t=t: c.films_named(t) for t in titles],
        "follow film > director": [lambda c, f=f: c.follow([f], director) for f in films],
        "follow person < actor": [lambda c, a=a: c.follow([a], back_actor) for a in actors],
        "2-hop person < actor > director": [lambda c, a=a: _chain(c, [a], [back_actor, director]) for a in actors],
        "3-hop film > actor < actor > director": [
            lambda c, f=f: _chain(c, [f], [actor, back_actor, director]) for f in films] if actors else [],
        "filter year + genre (all films)": [
            lambda c, g=g, d=d: c.filter(None, Constraints(year_from=d, year_to=d + 9, genre=g))
            for g, d in zip(genres, decades)],
        f"numbers {argmin_rel} (all films) + argmin": [
            lambda c: min((v, f) for f, v in c.numbers(None, argmin_rel).items())] * n,
        "count person < director": [lambda c, d=d: len(c.follow([d], back_director)[d]) for d in directors],
        "people_named": [lambda c, a=a: c.people_named(a.upper()) for a in actors],
        "film(id)": [lambda c, f=f: c.film(f) for f in films],
    }
    return {name: fns for name, fns in calls.items() if fns}


def time_calls(cat, calls: list[Call]) -> tuple[dict, list]:
    """Latency stats (ms) of each call after one untimed warm-up, and the answers."""
    calls[0](cat)
    seconds, answers = [], []
    for fn in calls:
        start = time.perf_counter()
        answers.append(fn(cat))
        seconds.append(time.perf_counter() - start)
    return stats(seconds, scale=1000, digits=4), answers


def threads_agree(cat, work: dict[str, list[Call]], expected: dict[str, list], threads: int = 4) -> bool:
    """The whole workload from `threads` threads at once gives the single-thread answers."""
    jobs = [(name, i, fn) for name, fns in work.items() for i, fn in enumerate(fns)]
    with ThreadPoolExecutor(threads) as pool:
        got = list(pool.map(lambda job: job[2](cat), jobs))
    return all(answer == expected[name][i] for (name, i, _), answer in zip(jobs, got))


# ---------------------------------------------------------------- open time and memory (fresh processes)

def probe(engine: str, folder: str) -> dict:
    """Open one catalog in this (fresh) process: seconds, and the resident memory it added."""
    import gc

    pd.read_parquet(Path(folder) / "movies.parquet", columns=["id"])  # warm pyarrow and DuckDB once, untimed
    duckdb.connect(":memory:").execute("SELECT 1").fetchall()
    gc.collect()
    before = rss_mb()
    start = time.perf_counter()
    cat = ENGINES[engine].open(folder)
    seconds = time.perf_counter() - start
    gc.collect()
    return {"open_s": round(seconds, 3), "rss_mb": round(rss_mb() - before, 1), "films": len(cat)}


def probe_median(engine: str, folder: str, repeats: int) -> dict:
    runs = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-m", "benchmarks.catalog_store", "--probe", engine, "--index", folder],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in runs) for key in ("open_s", "rss_mb")}


def write_catalog_files(movies: list[Movie], folder: Path) -> Path:
    """A folder holding only an index's catalog files (movies, edges and a manifest listing them)."""
    folder.mkdir(parents=True, exist_ok=True)
    movies_frame(movies).to_parquet(folder / "movies.parquet", index=False)
    edges_frame(movies).to_parquet(folder / "edges.parquet", index=False)
    files = {name: (folder / name).stat().st_size for name in ("movies.parquet", "edges.parquet")}
    (folder / MANIFEST).write_text(json.dumps({"schema_version": SCHEMA_VERSION, "files": files}))
    return folder


# ---------------------------------------------------------------- run

def measure_catalog(folder: str, n: int, seed: int, repeats: int) -> dict:
    """Both engines on one catalog folder: open, memory, latency per call type, agreement, thread safety."""
    cats = {name: engine.open(folder) for name, engine in ENGINES.items()}
    work = workload(cats["dicts"], n, seed)
    result: dict = {"films": len(cats["dicts"]), "calls_per_type": n, "engines": {}, "disagreements": {}}
    answers: dict[str, dict[str, list]] = {}
    for name, cat in cats.items():
        calls, answers[name] = {}, {}
        for call, fns in work.items():
            calls[call], answers[name][call] = time_calls(cat, fns)
        result["engines"][name] = {**probe_median(name, folder, repeats), "calls_ms": calls,
                                   "threads_agree": threads_agree(cat, work, answers[name])}
    for call in work:
        differ = sum(a != b for a, b in zip(answers["dicts"][call], answers["duckdb"][call]))
        if differ:
            result["disagreements"][call] = differ
    return result


def table(result: dict) -> str:
    """Markdown: one row per measure, one column per catalog × engine."""
    cols = [(cat, eng) for cat, r in result["catalogs"].items() for eng in r["engines"]]
    head = "| measure | " + " | ".join(f"{c} {e}" for c, e in cols) + " |"
    rows = [head, "|---|" + "---|" * len(cols)]

    def cell(cat, eng, getter) -> str:
        value = getter(result["catalogs"][cat]["engines"][eng])
        return "—" if value is None else f"{value:g}"

    rows.append("| open (s) | " + " | ".join(cell(c, e, lambda r: r["open_s"]) for c, e in cols) + " |")
    rows.append("| memory added (MB) | " + " | ".join(cell(c, e, lambda r: r["rss_mb"]) for c, e in cols) + " |")
    names = list(dict.fromkeys(k for r in result["catalogs"].values() for e in r["engines"].values()
                               for k in e["calls_ms"]))
    for name in names:
        rows.append(f"| {name}, p50 ms | " + " | ".join(
            cell(c, e, lambda r, k=name: r["calls_ms"].get(k, {}).get("p50")) for c, e in cols) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.catalog_store", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", required=True, help="index folder (its movies.parquet, edges.parquet if any)")
    parser.add_argument("--out", help="JSON file to write")
    parser.add_argument("--tmdb", default=str(TMDB), help="TMDB catalog file, measured too ('' to skip)")
    parser.add_argument("--calls", type=int, default=300, help="calls per call type (default 300)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per open measurement (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--probe", choices=list(ENGINES), help=argparse.SUPPRESS)  # one open, in a child process
    args = parser.parse_args(argv)
    if args.probe:
        print(json.dumps(probe(args.probe, args.index)))
        return 0
    if not args.out:
        parser.error("--out is required")
    result = {"command": "python -m benchmarks.catalog_store " + " ".join(sys.argv[1:] if argv is None else argv),
              "duckdb": duckdb.__version__, "catalogs": {}}
    sources = {Path(args.index).name: load_movies(args.index)}
    if args.tmdb and Path(args.tmdb).is_file():
        sources["tmdb"] = read_catalog(args.tmdb, Settings().with_overrides(progress=False)).movies
    with tempfile.TemporaryDirectory() as tmp:  # the catalog files as `index build` writes them now
        for name, movies in sources.items():
            folder = str(write_catalog_files(movies, Path(tmp) / name))
            result["catalogs"][name] = measure_catalog(folder, args.calls, args.seed, args.repeats)
    if not (Path(args.index) / "edges.parquet").is_file():  # an index from before edges.parquet: derived on open
        result["catalogs"][Path(args.index).name]["open_without_edges_file"] = {
            name: probe_median(name, args.index, args.repeats) for name in ENGINES}
    result["table"] = table(result)
    write_json(Path(args.out), result)
    print(result["table"])
    for name, r in result["catalogs"].items():
        print(f"{name}: {r['films']} films; engines disagree on {r['disagreements'] or 'nothing'}; threads agree: "
              f"{ {e: v['threads_agree'] for e, v in r['engines'].items()} }")
    return 0


if __name__ == "__main__":
    sys.exit(main())
