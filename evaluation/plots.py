"""Is a plot continuation prose? The junk checker, and the junk rate of a model over held-out plot openings.

A continuation is junk when it holds markup (HTML/XML tags, entities, markdown, wiki or JSON syntax), a URL, or
code; when it repeats a word 4-gram more than twice; or when it stops being prose: (almost) nothing written, few
word tokens, list items, headings, screenplay or label lines ("Title: ..."), chat-assistant talk, another script,
or a "word" no prose has (40+ characters).

`python -m evaluation.plots --openings runs/plot-data/plot_openings.jsonl --split test --n 50 --seed 42` samples
one continuation per opening with the plot model (`--plot-generator none --generator smollm2`: the zero-shot base
model) and prints the junk rate; `--out FILE` keeps every sample with its reasons as JSON.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

from core.config import Settings
from core.errors import DataError
from core.flags import add_settings_flags, run_command, settings_from_args

REASONS = ("markup", "url", "code", "repetition", "not_prose")
PLOT_FLAGS = {"plot_max_new_tokens": "--max-new-tokens", "plot_temperature": "--temperature", "plot_top_p": "--top-p",
              "plot_repetition_penalty": "--repetition-penalty",
              "plot_no_repeat_ngram_size": "--no-repeat-ngram-size"}  # as `python -m rag plot` names them
_URL = re.compile(r"https?:|www\.|\b[\w-]+\.(com|org|net|edu|gov|io|co\.uk|html?|php|aspx?)\b|\bsitemap\b", re.I)
_MARKUP = re.compile(
    r"</?[A-Za-z][\w:-]*(\s[^<>]*)?/?>"  # HTML/XML tags
    r"|&(#\d+|[a-z]+);"  # entities
    r"|\*\*|__|```|^\s{0,3}#{1,6}\s|\[\[|\]\]|\{\{|\}\}|\[[^\]\n]*\]\([^)\n]*\)"  # markdown, wiki links, templates
    r"|[{\[]\s*\"|\"\s*:\s*[\"{\[\d]|\"\s*,\s*\"",  # JSON
    re.M)
_CODE = re.compile(
    r"[{}\\|`^~<>=]|\+\+|&&|::|->|\w_\w|\w\(\)|\b\w+\.\w+\(|;\s*$|\$\w"  # symbols prose never needs
    r"|\b(def|function|var|const|let|import|public|private|void|return)\s+\w+\s*[=(:;]"  # declarations
    r"|#include|\bprint\(|\bconsole\.",
    re.M)
_LIST_ITEM = re.compile(r"^\s*(\d{1,3}[.)]|[-*•·▪])\s+", re.M)
_LABEL_LINE = re.compile(r"^\s*[A-Z][a-z]+( [A-Za-z][a-z]*){0,2}:\s", re.M)  # "Title: ...", "Main cast: ..."
_SCREENPLAY = re.compile(r"^\s*(INT|EXT)\.|^\s*(FADE (IN|OUT)|CUT TO)\b", re.M)
_HEADING = re.compile(r"^\s*[A-Z0-9][A-Z0-9 '&,-]{3,}\s*$", re.M)  # a line in capitals
_CHATTER = re.compile(r"^\W*(sure|certainly|of course|here('s| is| are)|i hope|i'm sorry|as an ai)\b"
                      r"|\b(let me know|i hope you enjoy|feel free to|as an ai)\b", re.I)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_NON_LATIN = re.compile(r"[^\x00-\u024f\u2000-\u206f\u20ac]")  # beyond Latin letters and general punctuation
MIN_WORDS = 3  # fewer words than this is no continuation
MIN_WORD_SHARE = 0.8  # whitespace tokens holding a word, at least
MAX_NGRAM_REPEATS = 2  # a word 4-gram written more often than this is a loop
LONGEST_WORD = 40  # characters; a longer token is no word of prose


def _repeats(text: str, n: int = 4) -> int:
    """How often the most frequent word n-gram occurs (case and punctuation ignored)."""
    words = [w.lower() for w in _WORD.findall(text)]
    grams = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return max(grams.values(), default=0)


def _not_prose(text: str) -> bool:
    tokens = text.split()
    if len(_WORD.findall(text)) < MIN_WORDS:
        return True
    if sum(bool(_WORD.search(t)) for t in tokens) / len(tokens) < MIN_WORD_SHARE:
        return True
    if any(len(t) >= LONGEST_WORD for t in tokens):
        return True
    letters = [c for c in text if c.isalpha()]
    if letters and sum(bool(_NON_LATIN.match(c)) for c in letters) / len(letters) > 0.05:
        return True
    return any(p.search(text) for p in (_LIST_ITEM, _LABEL_LINE, _SCREENPLAY, _HEADING, _CHATTER))


def junk_reasons(text: str) -> list[str]:
    """Why a continuation is junk, in REASONS order; [] for prose.

    Args:
        text: the generated continuation only (the opening is the user's).
    """
    found = {
        "markup": bool(_MARKUP.search(text)),
        "url": bool(_URL.search(text)),
        "code": bool(_CODE.search(text)),
        "repetition": _repeats(text) > MAX_NGRAM_REPEATS,
        "not_prose": _not_prose(text),
    }
    return [r for r in REASONS if found[r]]


def is_junk(text: str) -> bool:
    return bool(junk_reasons(text))


def junk_rate(texts: list[str]) -> float:
    """Share of the continuations that are junk (0.0 for none)."""
    return sum(is_junk(t) for t in texts) / len(texts) if texts else 0.0


# ---------------------------------------------------------------- sampling continuations of held-out openings

def read_openings(path: str, split: str, n: int, seed: int) -> list[dict]:
    """`n` openings of one split of a plot_openings.jsonl (training.data.prepare), drawn with `seed`.

    Raises:
        DataError: no such file, or fewer than `n` openings in the split.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"no openings file '{path}' (written by `python -m training prepare --lm-catalog ...`)")
    rows = [json.loads(line) for line in file.read_text().splitlines() if line.strip()]
    rows = sorted((r for r in rows if r.get("split") == split), key=lambda r: r["id"])
    if len(rows) < n:
        raise DataError(f"'{path}' has {len(rows)} '{split}' openings, fewer than {n}")
    return random.Random(seed).sample(rows, n)


def sample_plots(pipeline, openings: list[dict], seed: int, progress: bool = False, **gen_overrides) -> list[dict]:
    """One continuation per opening (seed + i for the i-th), with its junk reasons."""
    from tqdm.auto import tqdm  # deferred: only when sampling

    samples = []
    for i, row in enumerate(tqdm(openings, desc="plots", disable=not progress)):
        started = time.perf_counter()
        opening = " ".join(row["opening"].split())
        plot = pipeline.plot(opening, genre=row.get("genre"), seed=seed + i, **gen_overrides)
        continuation = plot[len(opening):].strip()
        samples.append({"title": row.get("title"), "genre": row.get("genre"), "opening": opening,
                        "continuation": continuation, "reasons": junk_reasons(continuation),
                        "seconds": round(time.perf_counter() - started, 2)})
    return samples


def report(samples: list[dict], meta: dict) -> dict:
    junk = [s for s in samples if s["reasons"]]
    return {**meta, "samples": len(samples), "junk": len(junk), "junk_rate": round(len(junk) / len(samples), 4),
            "reasons": dict(Counter(r for s in junk for r in s["reasons"])),
            "mean_words": round(sum(len(s["continuation"].split()) for s in samples) / len(samples), 1),
            "items": samples}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.plots", description=__doc__.split("\n\n")[0])
    parser.add_argument("--openings", required=True, help="plot_openings.jsonl written by `training prepare`")
    parser.add_argument("--split", default="test", choices=("validation", "test"), help="validation = dev")
    parser.add_argument("--n", type=int, default=50, help="openings sampled (default: 50)")
    parser.add_argument("--out", help="write the report with every sample as JSON here")
    add_settings_flags(parser, sections=("plot",), fields=("generator", "plot_generator", "seed", "progress"),
                       aliases=PLOT_FLAGS)
    args = parser.parse_args(argv)
    return run_command(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from rag.pipeline import load_pipeline  # deferred: heavy (torch)

    settings: Settings = settings_from_args(args)
    openings = read_openings(args.openings, args.split, args.n, settings.run.seed)
    pipeline = load_pipeline(settings, need_index=False)
    samples = sample_plots(pipeline, openings, settings.run.seed, progress=settings.run.progress)
    plot = settings.plot
    meta = {"generator": pipeline.generator_name, "plot_generator": pipeline.plot_generator_name or "answer generator",
            "split": args.split, "seed": settings.run.seed, "decoding": {
                "max_new_tokens": plot.plot_max_new_tokens, "temperature": plot.plot_temperature,
                "top_p": plot.plot_top_p, "repetition_penalty": plot.plot_repetition_penalty,
                "no_repeat_ngram_size": plot.plot_no_repeat_ngram_size}}
    result = report(samples, meta)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps({k: v for k, v in result.items() if k != "items"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
