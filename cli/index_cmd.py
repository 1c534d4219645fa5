"""`index build|add|info`: build, extend and inspect movie indexes (index.build, index.store)."""
from __future__ import annotations

import argparse
import json

from core.flags import add_settings_flags, settings_from_args
from index.build import add_to_index, build_index
from index.formats import FORMAT_NAMES
from index.store import read_manifest

BUILD_FIELDS = ("embedder", "embed_batch_size", "hnsw", "plot_chunk_words", "person_card_films", "tag_cards",
                "max_field_chars", "progress")
INTERRUPTED = "interrupted; the previous index is unchanged"  # the folder is only ever replaced whole


def add_commands(sub: argparse._SubParsersAction) -> None:
    build = sub.add_parser("build", help="build a new index from catalogs (replaces --out atomically)",
                           description="Build a new index from catalogs; --out is replaced atomically.")
    build.add_argument("sources", nargs="+", metavar="SOURCE",
                       help="catalog files (CSV, JSON, WikiMovies .txt[.gz]) or hf:<dataset id>")
    build.add_argument("--out", required=True, metavar="DIR", help="index folder to write")
    _common(build)
    build.set_defaults(run=run_build)
    add = sub.add_parser("add", help="upsert catalogs into an existing index (unchanged passages are not re-embedded)",
                         description="Upsert catalogs into an existing index; unchanged passages are not re-embedded.")
    add.add_argument("index_dir", metavar="DIR")
    add.add_argument("sources", nargs="+", metavar="SOURCE")
    _common(add)
    add.set_defaults(run=run_add)
    info = sub.add_parser("info", help="print an index's manifest as JSON")
    info.add_argument("index_dir", metavar="DIR")
    info.set_defaults(run=run_info)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=FORMAT_NAMES, help="catalog format for every SOURCE (default: detected)")
    p.add_argument("--json", action="store_true", help="print the full report as JSON")
    add_settings_flags(p, fields=BUILD_FIELDS, aliases={"embed_batch_size": ("--batch-size", "--embed-batch-size")})
    p.set_defaults(interrupted=INTERRUPTED)


def _line(report: dict) -> str:
    skipped = sum(n for reasons in report.get("skipped", {}).values() for n in reasons.values())
    skip = f", {skipped} rows skipped" if skipped else ""
    if "new" in report:
        return (f"updated {report['index']}: {report['movies']} movies, {report['passages']} passages "
                f"({report['new']} new, {report['updated']} updated, {report['unchanged']} unchanged, "
                f"{report['removed']} removed), {report['embedded']} embedded in {report['seconds']:.1f} s{skip}")
    return (f"built {report['index']}: {report['movies']} movies, {report['passages']} passages in "
            f"{report['seconds']:.1f} s ({report['passages_per_s']:.1f} passages/s){skip}")


def _print(report: dict, as_json: bool) -> int:
    print(json.dumps(report, indent=2, ensure_ascii=False) if as_json else _line(report))
    return 0


def run_build(args: argparse.Namespace) -> int:
    return _print(build_index(args.sources, args.out, settings_from_args(args), format=args.format), args.json)


def run_add(args: argparse.Namespace) -> int:
    return _print(add_to_index(args.index_dir, args.sources, settings_from_args(args), format=args.format), args.json)


def run_info(args: argparse.Namespace) -> int:
    print(json.dumps(read_manifest(args.index_dir), indent=2, ensure_ascii=False))
    return 0
