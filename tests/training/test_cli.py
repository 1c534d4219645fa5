"""`python -m training prepare|finetune|perplexity`: thin shells, JSON reports, one-line errors."""
from __future__ import annotations

import json
import math
import subprocess
import sys

from cli.main import training_main as main
from core.config import REPO_ROOT


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_prepare_finetune_perplexity(tmp_path, capsys, catalog_csv, tiny_gpt2_dir):
    data, model = tmp_path / "data", tmp_path / "model"
    code, out, _ = _run(capsys, ["prepare", "--catalog", str(catalog_csv), "--tokenizer", str(tiny_gpt2_dir),
                                 "--out", str(data), "--phrasings", "2", "--val-share", "0.2",
                                 "--shared-data", str(tmp_path), "--no-progress"])
    assert code == 0
    report = json.loads(out)
    assert report["train"] > 0 and "rag-gold" in report["kinds"] and (data / "dataset_dict.json").exists()
    code, out, err = _run(capsys, ["finetune", "--base", str(tiny_gpt2_dir), "--data", str(data), "--out", str(model),
                                   "--max-steps", "2", "--batch", "4", "--grad-accum", "1", "--lora", "--no-progress"])
    assert code == 0, err
    report = json.loads(out)  # stdout is only the JSON report; Trainer logs go to stderr
    assert report["global_step"] == 2 and report["lora"] and (model / "adapter_model.safetensors").exists()
    assert "eval_loss" in err
    code, out, _ = _run(capsys, ["perplexity", "--model", str(model), "--data", str(data), "--no-progress"])
    assert code == 0
    result = json.loads(out)
    assert math.isclose(result["perplexity"], math.exp(result["loss"])) and result["split"] == "validation"


def test_errors_are_one_line(tmp_path, capsys, tiny_gpt2_dir):
    test_file = tmp_path / "qa_test.csv"
    test_file.write_text("Question,Answer\nWho directed Jaws?,Steven Spielberg\n")
    code, out, err = _run(capsys, ["prepare", "--qa", str(test_file), "--tokenizer", str(tiny_gpt2_dir),
                                   "--style", "plain", "--out", str(tmp_path / "d")])
    assert code == 2 and out == "" and err.startswith("error: ") and err.count("\n") == 1 and "test" in err
    code, _, err = _run(capsys, ["finetune", "--base", str(tmp_path / "missing"), "--data", str(tmp_path),
                                 "--out", str(tmp_path / "m")])
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1
    code, _, err = _run(capsys, ["finetune", "--base", str(tiny_gpt2_dir), "--data", str(tmp_path / "nothing"),
                                 "--out", str(tmp_path / "m")])
    assert code == 2 and "no prepared data" in err and err.count("\n") == 1


def test_module_entry_point_help():
    result = subprocess.run([sys.executable, "-m", "training", "finetune", "--help"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for flag in ("--base", "--data", "--out", "--lora", "--max-steps", "--max-minutes", "--resume", "--no-progress"):
        assert flag in result.stdout
    assert "distilbert/distilgpt2" in result.stdout
