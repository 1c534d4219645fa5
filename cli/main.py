"""`movie-rag COMMAND`: the one command line (console script), plus the parsers behind `python -m rag|index|
training`. Every command runs inside core.flags.run_command: `error: <one line>`, exit code 2."""
from __future__ import annotations

import argparse
import sys

from cli import answer_cmd, eval_cmd, index_cmd, serve_cmd, train_cmd
from core.flags import run_command


def dispatch(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse (usage errors exit 2 in argparse) and run the chosen command under the one error wrapper."""
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    return run_command(lambda: args.run(args), getattr(args, "interrupted", "interrupted"))


def _parser(prog: str, description: str, formatter_class: type = argparse.HelpFormatter
            ) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    parser = argparse.ArgumentParser(prog=prog, description=description, formatter_class=formatter_class)
    return parser, parser.add_subparsers(dest="command", required=True, metavar="COMMAND")


def build_parser() -> argparse.ArgumentParser:
    parser, sub = _parser("movie-rag", "Movie question answering over a local index: build it, ask, evaluate, "
                                       "fine-tune and serve.")
    index = sub.add_parser("index", help="build, extend and inspect indexes",
                           description="Build, extend and inspect movie indexes.")
    index_cmd.add_commands(index.add_subparsers(dest="index_command", required=True, metavar="COMMAND"))
    answer_cmd.add_commands(sub)
    eval_cmd.add_commands(sub)
    train = sub.add_parser("train", help="prepare data, fine-tune, perplexity, install a generator",
                           description=train_cmd.DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    train_cmd.add_commands(train.add_subparsers(dest="train_command", required=True, metavar="COMMAND"))
    serve_cmd.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """The `movie-rag` console script: index, ask, chat, plot, eval, compare, train, serve."""
    return dispatch(build_parser(), argv)


def rag_main(argv: list[str] | None = None) -> int:
    """`python -m rag ask|chat|plot|eval|compare`."""
    parser, sub = _parser("python -m rag", "Movie question answering over a local index.")
    answer_cmd.add_commands(sub)
    eval_cmd.add_commands(sub)
    return dispatch(parser, argv)


def index_main(argv: list[str] | None = None) -> int:
    """`python -m index build|add|info|pack|unpack`."""
    parser, sub = _parser("python -m index", "Build, extend and inspect movie indexes.")
    index_cmd.add_commands(sub)
    return dispatch(parser, argv)


def training_main(argv: list[str] | None = None) -> int:
    """`python -m training prepare|finetune|perplexity|install`."""
    parser, sub = _parser("python -m training", train_cmd.DESCRIPTION, argparse.RawDescriptionHelpFormatter)
    train_cmd.add_commands(sub)
    return dispatch(parser, argv)
