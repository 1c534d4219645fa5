"""`python -m tests.reliability.run [--markdown] [CASE...]`: run the bad-input catalogue through `python -m index
add` and `build` (in-process, fast hash embedder) and print one row per case: category, expected and actual
outcome of each command, and the error line. Exit 1 when any run broke its expectation."""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

from tests.reliability.cases import CASES
from tests.reliability.harness import OPS, TRACEBACK, Outcome, build_baseline, run_case


def _cell(outcome: Outcome) -> str:
    return outcome.result + ("" if outcome.ok else " ✗")


def _shown(line: str, workdir: str) -> str:
    """The error line with the run's temporary folder cut down to input/…, escaped for a markdown table."""
    return re.sub(re.escape(workdir) + r"/[^/]+-(?:add|build)/", "", line).replace("|", "\\|")


def _imported(case) -> str:
    fields = ", ".join(f"{k}={v!r}" for k, v in case.fields.items())
    what = f"imports {case.title!r}" + (f" ({fields})" if fields else "")
    return what + (f"; {case.note}" if case.note else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.run", description=__doc__)
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    args = parser.parse_args(argv)
    chosen = [c for c in CASES if not args.cases or c.name in args.cases]
    start = time.perf_counter()
    rows, outcomes = [], []
    with tempfile.TemporaryDirectory(prefix="bad-inputs-") as tmp:
        baseline = build_baseline(Path(tmp))
        for n, case in enumerate(chosen, 1):
            runs = [run_case(case, op, Path(tmp), baseline) for op in OPS]
            outcomes += runs
            error = next((o.line for o in runs if o.result == "error"), "")
            line = error + (f" ({case.note})" if error and case.note else "") or _imported(case)
            if any(o.result == "skipped" for o in runs):
                line = runs[0].line
            problems = "; ".join(p for o in runs for p in o.problems)
            rows.append(f"| {n} | {case.name} | {case.category} | {case.expect} | "
                        + " | ".join(_cell(o) for o in runs) + f" | {_shown(line, tmp)}"
                        + (f" **{problems}**" if problems else "") + " |")
    seconds = time.perf_counter() - start
    print("| # | case | category | expected | " + " | ".join(f"`index {op}`" for op in OPS) + " | error line, or what "
          "the import holds |")
    print("|---|---|---|---|" + "---|" * len(OPS) + "---|")
    print("\n".join(rows))
    ran = [o for o in outcomes if o.result != "skipped"]
    broken = [o for o in ran if not o.ok]
    print(f"\n{len(chosen)} cases, {len(ran)} runs ({len(outcomes) - len(ran)} skipped) in {seconds:.1f} s: "
          f"{sum(o.result == 'error' for o in ran)} one-line errors with the index byte-identical, "
          f"{sum(o.result == 'import' for o in ran)} clean imports, "
          f"{sum(o.result == TRACEBACK for o in ran)} tracebacks, "
          f"{sum('partial' in p for o in ran for p in o.problems)} partial indexes, {len(broken)} broken expectations")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
