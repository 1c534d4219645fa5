"""`index build|add|info|verify|pack|unpack`: build, extend, inspect and check movie indexes (index.build,
index.store, index.verify), and pack one into the compact shippable form or unpack it again (index.pack)."""
from __future__ import annotations

import argparse
import json

from core.flags import add_settings_flags, settings_from_args
from index.build import add_to_index, build_index
from index.formats import FORMAT_NAMES
from index.pack import pack_index, unpack_index
from index.store import read_manifest
from index.verify import summary_line, verify_index

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
    verify = sub.add_parser("verify", help="check an index: every file loads, hashes and counts match its manifest",
                            description="Check an index folder: every file present with the size and sha256 its "
                                        "manifest lists, the manifest unedited, every file loadable, counts, dims and "
                                        "ids agreeing. Exit 0 with a summary line, or 2 with `error: <file>: <what>`.")
    verify.add_argument("index_dir", metavar="DIR")
    verify.add_argument("--json", action="store_true", help="print the summary as JSON")
    verify.set_defaults(run=run_verify)
    pack = sub.add_parser("pack", help="write an index's compact pack (int8 vectors + the names of its catalogs)",
                          description="Write the compact pack of an index built from local catalog files: int8 "
                                      "vectors keyed by passage hash, and the catalogs' paths relative to --out.")
    pack.add_argument("index_dir", metavar="DIR")
    pack.add_argument("--out", required=True, metavar="PACK", help="pack folder to write (replaced atomically)")
    pack.add_argument("--json", action="store_true", help="print the full report as JSON")
    add_settings_flags(pack, fields=("embedder",))
    pack.set_defaults(run=run_pack, interrupted=INTERRUPTED)
    unpack = sub.add_parser("unpack", help="rebuild an index from a pack and its catalogs (no re-embedding)",
                            description="Rebuild an index folder from a pack: catalogs read again, vectors from the "
                                        "pack (only passages changed since packing are embedded).")
    unpack.add_argument("pack_dir", metavar="PACK")
    unpack.add_argument("--out", required=True, metavar="DIR", help="index folder to write (replaced atomically)")
    unpack.add_argument("--json", action="store_true", help="print the full report as JSON")
    add_settings_flags(unpack, fields=("embedder", "embed_batch_size", "progress"),
                       aliases={"embed_batch_size": ("--batch-size", "--embed-batch-size")})
    unpack.set_defaults(run=run_unpack, interrupted=INTERRUPTED)


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


def _print(report: dict, as_json: bool, line: str | None = None) -> int:
    print(json.dumps(report, indent=2, ensure_ascii=False) if as_json else line or _line(report))
    return 0


def run_build(args: argparse.Namespace) -> int:
    return _print(build_index(args.sources, args.out, settings_from_args(args), format=args.format), args.json)


def run_add(args: argparse.Namespace) -> int:
    return _print(add_to_index(args.index_dir, args.sources, settings_from_args(args), format=args.format), args.json)


def run_info(args: argparse.Namespace) -> int:
    print(json.dumps(read_manifest(args.index_dir), indent=2, ensure_ascii=False))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    report = verify_index(args.index_dir)
    return _print(report, args.json, summary_line(report))


def run_pack(args: argparse.Namespace) -> int:
    report = pack_index(args.index_dir, args.out, settings_from_args(args))
    return _print(report, args.json, f"packed {args.index_dir} into {report['pack']}: {report['passages']} passages "
                                     f"of dim {report['dim']} as int8, {report['bytes'] / 1e6:.1f} MB; cosine to "
                                     f"float32 min {report['cosine_min']:.5f}, mean {report['cosine_mean']:.5f}")


def run_unpack(args: argparse.Namespace) -> int:
    report = unpack_index(args.pack_dir, args.out, settings_from_args(args))
    return _print(report, args.json, f"unpacked {args.pack_dir} into {report['index']}: {report['movies']} movies, "
                                     f"{report['passages']} passages ({report['reused']} vectors from the pack, "
                                     f"{report['embedded']} embedded) in {report['seconds']:.1f} s")
