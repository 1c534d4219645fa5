"""python -m index build|add|info — a thin shell over index.build and index.store."""
from __future__ import annotations

import argparse
import json
import sys

from index.formats import FORMAT_NAMES
from core.errors import CatalogError, IndexLoadError
from core.config import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m index", description="Build, extend and inspect movie indexes.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", choices=FORMAT_NAMES, help="catalog format for every SOURCE (default: detected)")
        p.add_argument("--no-progress", action="store_true", help="no progress bars")
        p.add_argument("--hnsw", action="store_true", default=None, help="HNSW instead of a flat index (large corpora)")
        p.add_argument("--embedder", help="embedder hub id or folder (default: bundled all-MiniLM-L6-v2)")
        p.add_argument("--batch-size", type=int, help="passages per embedding batch")
        p.add_argument("--json", action="store_true", help="print the full report as JSON")

    build = sub.add_parser("build", help="build a new index from catalogs (replaces --out atomically)")
    build.add_argument("sources", nargs="+", metavar="SOURCE", help="catalog files (CSV, JSON, WikiMovies .txt[.gz]) or hf:<dataset id>")
    build.add_argument("--out", required=True, metavar="DIR", help="index folder to write")
    common(build)
    add = sub.add_parser("add", help="upsert catalogs into an existing index (unchanged passages are not re-embedded)")
    add.add_argument("index_dir", metavar="DIR")
    add.add_argument("sources", nargs="+", metavar="SOURCE")
    common(add)
    info = sub.add_parser("info", help="print an index's manifest as JSON")
    info.add_argument("index_dir", metavar="DIR")
    return parser


def _line(report: dict) -> str:
    skipped = sum(n for reasons in report.get("skipped", {}).values() for n in reasons.values())
    skip = f", {skipped} rows skipped" if skipped else ""
    if "new" in report:
        return (f"updated {report['index']}: {report['movies']} movies, {report['passages']} passages "
                f"({report['new']} new, {report['updated']} updated, {report['unchanged']} unchanged, "
                f"{report['removed']} removed), {report['embedded']} embedded in {report['seconds']:.1f} s{skip}")
    return (f"built {report['index']}: {report['movies']} movies, {report['passages']} passages in "
            f"{report['seconds']:.1f} s ({report['passages_per_s']:.1f} passages/s){skip}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "info":
            from index.store import read_manifest

            print(json.dumps(read_manifest(args.index_dir), indent=2, ensure_ascii=False))
            return 0
        from index.build import add_to_index, build_index

        settings = Settings().with_overrides(progress=False if args.no_progress else None, hnsw=args.hnsw,
                                             embedder=args.embedder, embed_batch_size=args.batch_size)
        if args.command == "build":
            report = build_index(args.sources, args.out, settings, format=args.format)
        else:
            report = add_to_index(args.index_dir, args.sources, settings, format=args.format)
    except (CatalogError, IndexLoadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted; the previous index is unchanged", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - model problems etc.: one line, no stack trace
        from core.errors import ModelUnavailable

        if not isinstance(exc, (ModelUnavailable, OSError, MemoryError)):
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else _line(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
