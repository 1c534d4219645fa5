"""The `movie-rag` dispatcher, the `python -m` parsers behind the shims, the README's flag names, and the one
error convention (`error: <one line>`, exit code 2) of every entry point."""
from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import pytest

import app
from cli.main import build_parser, index_main, main, rag_main, training_main
from core.config import REPO_ROOT, Settings
from core.errors import ModelUnavailable
from core.flags import config_from_args, settings_from_args
from evaluation.questions import FORMATS
from training.data import PrepareConfig
from training.finetune import FinetuneConfig

COMMANDS = ("index", "ask", "chat", "plot", "eval", "compare", "train", "serve")


def test_movie_rag_lists_every_command(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert all(f"    {command} " in out for command in COMMANDS)


@pytest.mark.parametrize("argv, flags", [
    (["index", "build"], ["--out", "--format", "--hnsw", "--no-progress", "--embedder", "--batch-size", "--json"]),
    (["ask"], ["--mode", "--json", "--index", "--k", "--hops", "--abstain-threshold", "--max-new-tokens",
               "--generator"]),
    (["eval"], ["--questions", "--per-type", "--stratify", "--modes", "--bertscore-model", "--batch-size", "--seed"]),
    (["train", "finetune"], ["--base", "--lora", "--lr", "--batch", "--grad-accum", "--max-minutes", "--threads"]),
    (["serve"], ["--index", "--generator", "--host", "--port", "--no-progress"]),
])
def test_subcommand_help(capsys, argv, flags):
    with pytest.raises(SystemExit) as done:
        main([*argv, "--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0 and all(flag in out for flag in flags), out


def test_usage_errors_exit_2(capsys):
    for argv in (["ask"], ["nonsense"], ["ask", "q", "--hops", "3"], ["index"]):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_readme_eval_and_plot_flags_map_to_settings():
    args = build_parser().parse_args([
        "eval", "--index", "idx", "--questions", "q.txt", "--format", FORMATS[0], "--stratify", "--per-type", "120",
        "--limit", "330", "--modes", "rag,plain", "--seed", "7", "--out", "runs/x",
        "--bertscore-model", "roberta-large", "--k", "4", "--batch-size", "2", "--generator", "smollm2",
        "--abstain-threshold", "0.2", "--hops", "2", "--max-new-tokens", "9", "--no-progress"])
    s = settings_from_args(args)
    assert (s.index.index_dir, s.eval.per_type, s.run.seed, s.eval.bertscore_model, s.retrieval.k) == \
        ("idx", 120, 7, "roberta-large", 4)
    assert (s.decoding.batch_size, s.models.generator, s.answer.abstain_threshold, s.retrieval.hops) == \
        (2, "smollm2", 0.2, 2)
    assert s.decoding.max_new_tokens == 9 and s.run.progress is False and args.stratify and args.limit == 330
    plot = build_parser().parse_args(["plot", "A robot", "--genre", "Comedy", "--max-new-tokens", "5",
                                      "--temperature", "0.5", "--seed", "1"])
    s = settings_from_args(plot)
    assert (s.plot.plot_max_new_tokens, s.plot.plot_temperature, s.run.seed) == (5, 0.5, 1)
    assert s.decoding.max_new_tokens == Settings().decoding.max_new_tokens  # plot's flag is the plot length


def test_readme_training_flags_map_to_the_configs():
    parser = build_parser()
    prep = parser.parse_args([
        "train", "prepare", "--tokenizer", "smollm2", "--qa", "dev.txt", "--holdout-per-type", "100", "--limit", "4000",
        "--catalog", "kb.txt.gz", "--max-kb-pairs", "2000", "--index", "/tmp/wm", "--prompt-examples", "0",
        "--max-length", "512", "--gold-share", "0.3", "--abstain-share", "0.1", "--val-share", "0.03",
        "--relations", "directed_by, starred_actors", "--keep-test-entities", "--out", "runs/d", "--no-progress"])
    cfg = config_from_args(prep, PrepareConfig)
    assert cfg.qa_files == ["dev.txt"] and cfg.catalogs == ["kb.txt.gz"] and cfg.index_dir == "/tmp/wm"
    assert (cfg.tokenizer, cfg.holdout_per_type, cfg.limit, cfg.max_kb_pairs, cfg.prompt_examples) == \
        ("smollm2", 100, 4000, 2000, 0)
    assert (cfg.max_length, cfg.gold_share, cfg.abstain_share, cfg.val_share) == (512, 0.3, 0.1, 0.03)
    assert cfg.relations == ("directed_by", "starred_actors") and cfg.exclude_test_entities is False
    assert cfg.seed == PrepareConfig().seed and settings_from_args(prep).run.progress is False
    fine = parser.parse_args([
        "train", "finetune", "--base", "smollm2", "--data", "d", "--out", "m", "--lora", "--lr", "2e-4",
        "--warmup-steps", "10", "--batch", "4", "--grad-accum", "2", "--max-length", "512", "--max-steps", "210",
        "--max-minutes", "62", "--eval-steps", "30", "--max-eval-examples", "48", "--threads", "1"])
    cfg = config_from_args(fine, FinetuneConfig)
    assert (cfg.base, cfg.lora, cfg.learning_rate, cfg.warmup_steps, cfg.per_device_batch, cfg.grad_accum) == \
        ("smollm2", True, 2e-4, 10, 4, 2)
    assert (cfg.max_length, cfg.max_steps, cfg.max_minutes, cfg.eval_steps, cfg.max_eval_examples) == \
        (512, 210, 62.0, 30, 48)
    assert cfg.epochs == FinetuneConfig().epochs and settings_from_args(fine).run.num_threads == 1
    inst = parser.parse_args(["train", "install", "runs/x", "--to", "models/y"])
    assert settings_from_args(inst).models.finetuned_generator == "models/y"


def test_serve_and_app_share_flags_and_errors(monkeypatch, tmp_path, capsys):
    served = []

    def fake_serve(settings):
        served.append(settings)
        return 0

    monkeypatch.setattr(app, "serve", fake_serve)
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--index", "idx", "--port", "9001", "--no-progress"]) == 0
    assert app.main(["--host", "0.0.0.0", "--generator", "g"]) == 0
    first, second = served
    assert first.index.index_dir == str(tmp_path / "idx") and first.demo.port == 9001 and not first.run.progress
    assert second.demo.host == "0.0.0.0" and second.models.generator == "g" and second.demo.port == 7860

    def broken(settings):
        raise ModelUnavailable("no generator at g; pass a folder or hub id")

    monkeypatch.setattr(app, "serve", broken)
    for entry in (lambda: main(["serve", "--generator", "g"]), lambda: app.main(["--generator", "g"])):
        assert entry() == 2
        assert capsys.readouterr().err == "error: no generator at g; pass a folder or hub id\n"


def test_every_entry_point_prints_one_error_line_and_returns_2(tmp_path, capsys):
    missing = str(tmp_path / "missing")
    calls = [(main, ["index", "info", missing]), (index_main, ["info", missing]),
             (rag_main, ["compare", missing, missing]), (main, ["compare", missing, missing]),
             (training_main, ["install", missing]), (main, ["train", "install", missing]),
             (main, ["eval", "--questions", missing, "--out", str(tmp_path / "o")])]
    for entry, argv in calls:
        assert entry(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, (argv, err)


def test_console_script_and_fast_help():
    scripts = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, function = scripts["movie-rag"].partition(":")
    assert (module, function) == ("cli.main", "main")
    code = "import sys, cli.main; cli.main.build_parser(); print(sorted({'torch', 'transformers'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr  # --help never waits for torch


@pytest.mark.parametrize("module, command", [("rag", "ask"), ("index", "build"), ("training", "finetune")])
def test_python_m_shims(module, command):
    out = subprocess.run([sys.executable, "-m", module, command, "--help"], cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})
    assert out.returncode == 0 and f"python -m {module} {command}" in out.stdout
