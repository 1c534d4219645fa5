"""The Index tab's summary of the live index: films (and the records merged into them), sources, build time."""
from __future__ import annotations

from rag.ui import built_line, films_line, sources_line

CATALOG = {
    "movies": 22477, "passages": 75012, "built_at": "2026-11-29T12:40:03+00:00", "build_seconds": 31.4,
    "sources": [
        {"path": "/repo/data/sample_movies.csv", "movies": 155, "notes": {}},
        {"path": "/repo/data/wikimovies_kb.txt.gz", "movies": 16426, "notes": {}},
        {"path": "/repo/data/wikimovies_plots.txt.gz", "movies": 0, "notes": {"plots attached to KB movies": 16420}},
        {"path": "/repo/data/tmdb_9000plus.csv.gz", "movies": 9819, "notes": {}},
    ],
    "unpacked_from": {"pack": "/repo/data/index_pack", "embedded": 0, "packed_index_built_at": "2026-11-29T12:20:00"},
}


def test_films_say_how_many_records_were_merged():
    assert films_line(CATALOG) == "22,477 (26,400 catalog records; the same film from several sources is one record)"
    assert films_line({"movies": 5, "sources": [{"movies": 5}]}) == "5"
    assert films_line({}) == "?"


def test_sources_name_their_films():
    assert sources_line(CATALOG) == ("sample_movies.csv (155 films), wikimovies_kb.txt.gz (16,426 films), "
                                     "wikimovies_plots.txt.gz (plots of 16,420 films), tmdb_9000plus.csv.gz "
                                     "(9,819 films)")
    assert sources_line({"sources": ["/x/old.csv"]}) == "old.csv" and sources_line({}) == "?"


def test_build_time_and_origin():
    line = built_line(CATALOG)
    assert line.startswith("2026-11-29 12:40:03 UTC in 31 s, unpacked from the shipped pack (int8 vectors, 0 ")
    assert built_line({"built_at": "2026-11-29T09:44:36+00:00", "build_seconds": 612.0}) == \
        "2026-11-29 09:44:36 UTC in 612 s"
    assert built_line({"built_at": "2026-11-29T09:44:36+00:00"}) == "2026-11-29 09:44:36 UTC"
