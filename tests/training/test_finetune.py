"""training.finetune on the tiny GPT-2 (CPU, a few steps): recipe defaults, masked loss, LoRA, caps, resume,
the saved HF folder and model card, and loading the result back through core.models."""
from __future__ import annotations

import inspect
import json
import math

import pytest

from core.config import Settings
from training.finetune import FinetuneConfig, evaluate_perplexity, finetune

FAST = dict(per_device_batch=4, grad_accum=1, max_steps=3, logging_steps=1)


def test_seed_recipe_defaults():
    cfg = FinetuneConfig()
    assert cfg.base == "distilbert/distilgpt2"
    assert (cfg.learning_rate, cfg.epochs, cfg.max_length, cfg.seed) == (5e-5, 3.0, 256, 42)
    assert cfg.optim == "adamw_torch" and cfg.effective_batch == 16 and cfg.grad_accum > 1
    assert (cfg.lora, cfg.lora_r, cfg.lora_targets) == (False, 16, "all-linear")
    assert (cfg.max_steps, cfg.max_minutes, cfg.resume) == (-1, None, False)
    body = inspect.getsource(FinetuneConfig).split("\n    @property")[0]
    fields = [line for line in body.splitlines() if line.startswith("    ") and ": " in line and " = " in line]
    assert fields and all("  # " in line for line in fields)  # every default carries its comment


def test_full_finetune_writes_hf_folder_and_card(tmp_path, prepared_dir, tiny_gpt2_dir):
    out = tmp_path / "model"
    report = finetune(FinetuneConfig(base=str(tiny_gpt2_dir), eval_steps=2, **FAST), str(prepared_dir), str(out),
                      Settings().with_overrides(progress=False))
    assert report["global_step"] == 3 and report["finished"] and not report["fp16"]
    assert report["effective_batch"] == 4 and report["train_examples"] > 0
    assert math.isclose(report["eval_perplexity"], math.exp(report["eval_loss"]), rel_tol=1e-6)
    assert [e["step"] for e in report["evaluations"]] == [2, 3]
    for name in ("model.safetensors", "config.json", "generation_config.json", "tokenizer.json", "README.md",
                 "loss_curve.png", "training_report.json"):
        assert (out / name).exists(), name
    assert not list(out.glob("*.bin")) and not (out / "checkpoints").exists()
    card = (out / "README.md").read_text()
    header = card.split("---")[1]
    for key in ("base_model:", "library_name: transformers", "tags:", "datasets:", "metrics:", "perplexity"):
        assert key in header
    assert "kb:movies.csv" in header and "learning rate" not in header
    assert "lr 5e-05" in card and "| 3 |" in card  # hyperparameters and the eval table
    generation = json.loads((out / "generation_config.json").read_text())
    assert generation["pad_token_id"] == generation["eos_token_id"]


def test_saved_model_loads_back_and_generates(tmp_path, prepared_dir, tiny_gpt2_dir):
    from core.models import load_generator
    from rag.generate import Generator

    out = tmp_path / "model"
    finetune(FinetuneConfig(base=str(tiny_gpt2_dir), **FAST), str(prepared_dir), str(out),
             Settings().with_overrides(progress=False))
    settings = Settings().with_overrides(generator=str(out), progress=False, max_new_tokens=4)
    model, tokenizer, spec = load_generator(settings)
    assert spec.path == str(out.resolve())
    texts = Generator(model, tokenizer, settings).generate(["Question: Who directed Jaws?\nAnswer:"])
    assert len(texts) == 1 and isinstance(texts[0], str)


def test_lora_adapter_trains_saves_and_loads(tmp_path, prepared_dir, tiny_gpt2_dir):
    from core.models import load_generator
    from rag.generate import Generator

    out = tmp_path / "lora"
    report = finetune(FinetuneConfig(base=str(tiny_gpt2_dir), lora=True, **FAST), str(prepared_dir), str(out),
                      Settings().with_overrides(progress=False))
    assert 0 < report["trainable_params"] < report["total_params"]
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["r"] == 16 and adapter["base_model_name_or_path"] == str(tiny_gpt2_dir.resolve())
    assert (out / "adapter_model.safetensors").exists() and not (out / "model.safetensors").exists()
    assert "library_name: peft" in (out / "README.md").read_text()
    settings = Settings().with_overrides(generator=str(out), progress=False, max_new_tokens=3)
    model, tokenizer, spec = load_generator(settings)
    assert spec.adapter == str(out)
    assert len(Generator(model, tokenizer, settings).generate(["Question: Who directed Jaws?\nAnswer:"])) == 1


def test_time_cap_checkpoints_and_resume(tmp_path, prepared_dir, tiny_gpt2_dir):
    out = tmp_path / "capped"
    cfg = FinetuneConfig(base=str(tiny_gpt2_dir), per_device_batch=4, grad_accum=1, max_minutes=1e-6)
    first = finetune(cfg, str(prepared_dir), str(out), Settings().with_overrides(progress=False))
    assert first["stopped_by_time_limit"] and first["global_step"] == 1 and not first["finished"]
    assert (out / "checkpoints" / "checkpoint-1").is_dir()
    resume = FinetuneConfig(base=str(tiny_gpt2_dir), per_device_batch=4, grad_accum=1, max_steps=3, resume=True)
    second = finetune(resume, str(prepared_dir), str(out), Settings().with_overrides(progress=False))
    assert second["resumed_from"].endswith("checkpoint-1") and second["global_step"] == 3
    assert second["steps_this_run"] == 2 and second["finished"]


def test_loss_is_on_answer_tokens_only(prepared_dir, tiny_gpt2_dir):
    """The reported validation loss equals the mean per-example loss over answer tokens (prompt masked)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.data import load_prepared, tokenize_example

    result = evaluate_perplexity(str(tiny_gpt2_dir), str(prepared_dir), Settings().with_overrides(progress=False),
                                 batch_size=1)
    model = AutoModelForCausalLM.from_pretrained(tiny_gpt2_dir).eval()
    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2_dir)
    masked = []
    with torch.no_grad():
        for ex in load_prepared(str(prepared_dir))["validation"]:
            row = tokenize_example(ex, tokenizer)
            if len(row["input_ids"]) > 256:
                continue
            answer = tokenizer(ex["completion"], add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
            if ex["prompt"]:  # only the answer tokens (and eos) carry labels
                assert [t for t in row["labels"] if t != -100] == answer
            ids, labels = torch.tensor([row["input_ids"]]), torch.tensor([row["labels"]])
            masked.append(model(input_ids=ids, labels=labels).loss.item())
    assert result["examples"] == len(masked)
    assert math.isclose(result["loss"], sum(masked) / len(masked), rel_tol=1e-4)
    assert math.isclose(result["perplexity"], math.exp(result["loss"]), rel_tol=1e-9)


def test_unreachable_base_is_one_line(tmp_path, prepared_dir, monkeypatch):
    from core.errors import ModelUnavailable

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailable) as err:
        finetune(FinetuneConfig(max_steps=1), str(prepared_dir), str(tmp_path / "m"),
                 Settings().with_overrides(progress=False))
    assert "distilbert/distilgpt2" in str(err.value) and "\n" not in str(err.value)


def test_install_casts_to_float16_becomes_default_and_fails_safely(tmp_path, prepared_dir, tiny_gpt2_dir):
    import torch
    from safetensors.torch import load_file

    from core.errors import InstallError
    from core.models import load_generator, resolve_generator
    from rag.generate import Generator
    from training.__main__ import main
    from training.install import install_model

    run = tmp_path / "lora"
    finetune(FinetuneConfig(base=str(tiny_gpt2_dir), lora=True, **FAST), str(prepared_dir), str(run),
             Settings().with_overrides(progress=False))
    target = tmp_path / "models" / "movieqa-lora"
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"rag": {"hits@1": 0.5, "any_hit": 0.75, "f1": 0.6, "bertscore_f1_rescaled": None,
                                          "recall@k": 1.0, "n": 4}, "meta": {"questions_file": "q.txt", "n": 4}}))
    assert main(["install", str(run), "--to", str(target), "--eval-report", str(report)]) == 0
    weights = load_file(str(target / "adapter_model.safetensors"))
    assert weights and all(t.dtype == torch.float16 for t in weights.values())
    assert (target / "prompt_settings.json").is_file() and (target / "eval_report.json").is_file()
    assert "| rag | 0.500 | 0.750 | 0.600 | n/a | 1.000 | 4 |" in (target / "README.md").read_text()
    assert not (target / "checkpoints").exists()

    settings = Settings().with_overrides(finetuned_generator=str(target), progress=False, max_new_tokens=4)
    assert resolve_generator(settings).adapter == str(target)  # the installed model is the default now
    prompt = ["Question: Who directed Jaws?\nAnswer:"]
    half = Generator(*load_generator(settings)[:2], settings).generate(prompt)
    full = Generator(*load_generator(settings.with_overrides(generator=str(run)))[:2], settings).generate(prompt)
    assert half == full  # greedy answers survive the float16 storage on this tiny model

    before = sorted(p.name for p in target.iterdir())
    with pytest.raises(InstallError, match="no adapter_model.safetensors or model.safetensors"):
        install_model(tmp_path / "empty-run", target)
    assert sorted(p.name for p in target.iterdir()) == before
    assert [p.name for p in target.parent.iterdir()] == ["movieqa-lora"]  # no staging folder left behind
