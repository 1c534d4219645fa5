"""core.flags: flags generated from the config dataclasses (help = field comment + real default, types from the
annotations, --x/--no-x bools, aliases) and the one error wrapper of every command."""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields

import pytest

from core.config import Settings
from core.errors import ConfigError, ModelUnavailable
from core.flags import (
    add_config_flags,
    add_settings_flags,
    config_from_args,
    field_comments,
    run_command,
    settings_from_args,
)


@dataclass
class Toy:
    """A config with every kind of field."""

    rate: float = 0.5  # share of things, 50% by default
    name: str | None = None  # None → pick one
    files: list[str] = field(default_factory=list)  # input files; repeatable
    tags: tuple[str, ...] | None = None  # comma-separated tags
    fast: bool = False  # go faster
    steps: int = (
        3  # a comment on the last line of a field that spans lines
    )


def wide_parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(formatter_class=lambda prog: argparse.HelpFormatter(prog, width=400))


def test_every_config_field_has_a_comment():
    from training.data import PrepareConfig
    from training.finetune import FinetuneConfig

    for cls in [*Settings.sections().values(), PrepareConfig, FinetuneConfig]:
        comments = field_comments(cls)
        assert all(comments.get(f.name) for f in fields(cls)), cls.__name__
    assert field_comments(Toy)["steps"] == "a comment on the last line of a field that spans lines"


def test_help_shows_the_comment_and_the_real_default():
    parser = wide_parser()
    add_settings_flags(parser, sections=("retrieval",), fields=("index_dir", "progress", "generator"))
    text = parser.format_help()
    assert "passages retrieved per question (default: 5)" in text
    assert f"(default: {Settings().index.index_dir})" in text
    assert "tqdm bars on long steps (--no-progress turns them off) (default: on)" in text
    assert "retrieval settings:" in text and "Dense + BM25" in text  # one group per section, its docstring
    assert "None → the shipped fine-tuned adapter" in text and "(default: None)" not in text


def test_types_bools_lists_and_csv_from_annotations():
    parser = wide_parser()
    assert add_config_flags(parser, Toy) == ["rate", "name", "files", "tags", "fast", "steps"]
    assert "share of things, 50% by default (default: 0.5)" in parser.format_help()  # % survives argparse
    args = parser.parse_args(["--rate", "0.25", "--files", "a", "--files", "b", "--tags", "x, y", "--fast",
                              "--steps", "7"])
    assert config_from_args(args, Toy) == Toy(0.25, None, ["a", "b"], ("x", "y"), True, 7)
    assert config_from_args(parser.parse_args(["--no-fast"]), Toy) == Toy(fast=False)
    assert config_from_args(parser.parse_args([]), Toy, steps=9) == Toy(steps=9)
    with pytest.raises(SystemExit):
        parser.parse_args(["--steps", "many"])


def test_bool_flags_and_unset_flags_change_nothing():
    parser = argparse.ArgumentParser()
    add_settings_flags(parser, fields=("progress", "hnsw", "k"))
    assert parser.parse_args([]).progress is None
    assert settings_from_args(parser.parse_args(["--no-progress"])).run.progress is False
    assert settings_from_args(parser.parse_args(["--hnsw"])).index.hnsw is True
    base = Settings().with_overrides(k=9, progress=False)
    assert settings_from_args(parser.parse_args([]), base) == base
    assert settings_from_args(parser.parse_args(["--progress"]), base).run.progress is True


def test_aliases_and_choices():
    parser = argparse.ArgumentParser()
    add_settings_flags(parser, fields=("index_dir", "num_threads", "embed_batch_size", "hops"),
                       aliases={"embed_batch_size": ("--batch-size", "--embed-batch-size")})
    s = settings_from_args(parser.parse_args(["--index", "idx", "--threads", "2", "--batch-size", "16", "--hops", "2"]))
    assert (s.index.index_dir, s.run.num_threads, s.index.embed_batch_size, s.retrieval.hops) == ("idx", 2, 16, 2)
    assert settings_from_args(parser.parse_args(["--num-threads", "3", "--embed-batch-size", "8"])).run.num_threads == 3
    with pytest.raises(SystemExit):
        parser.parse_args(["--hops", "3"])
    with pytest.raises(SystemExit):
        parser.parse_args(["--index-dir", "idx"])  # the README name replaces the field name


def test_settings_from_args_reads_only_the_parsers_settings_flags():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=7)  # a command's own --seed, not RunConfig.seed
    add_settings_flags(parser, fields=("k",))
    s = settings_from_args(parser.parse_args(["--k", "3"]))
    assert s.retrieval.k == 3 and s.run.seed == Settings().run.seed


def test_unknown_names_are_config_errors():
    parser = argparse.ArgumentParser()
    with pytest.raises(ConfigError, match="nope"):
        add_settings_flags(parser, fields=("nope",))
    with pytest.raises(ConfigError, match="retrival"):
        add_settings_flags(parser, sections=("retrival",))
    with pytest.raises(ConfigError, match="Toy has no field bogus"):
        add_config_flags(parser, Toy, names=("bogus",))


def test_run_command_prints_one_line_and_returns_2(capsys):
    def fail(exc):
        def command():
            raise exc
        return command

    assert run_command(lambda: 0) == 0 and run_command(lambda: None) == 0 and run_command(lambda: 3) == 3
    for exc in (ModelUnavailable("no model here\nsecond line"), FileNotFoundError("missing.csv"), ValueError("bad")):
        assert run_command(fail(exc)) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "second line" not in err
    assert run_command(fail(MemoryError())) == 2 and capsys.readouterr().err == "error: MemoryError\n"
    assert run_command(fail(KeyboardInterrupt()), "stopped") == 130
    assert "error: stopped" in capsys.readouterr().err
    with pytest.raises(RuntimeError):  # a bug keeps its traceback
        run_command(fail(RuntimeError("bug")))
