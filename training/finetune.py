"""Fine-tuning a causal LM on prepared data with the Hugging Face Trainer (full or LoRA), seed recipe defaults.

Output: a standard HF folder (safetensors weights or a PEFT adapter, tokenizer, generation_config.json),
README.md model card, loss_curve.png, training_report.json, and prompt_settings.json (the Settings fields
the training prompts were rendered with, e.g. prompt_examples: answer with the same ones). Checkpoints go
to <out>/checkpoints and are kept when a run is cut short (--max-minutes), so `--resume` can continue it.
"""
from __future__ import annotations

import json
import math
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from core.config import Settings
from core.errors import DataError, ModelUnavailable
from core.models import GENERATOR_ALIASES, SMOLLM2_HUB_ID, load_generator, resolve_generator
from training.data import load_prepared, read_meta, tokenize_examples
from training.model_card import plot_loss_curve, write_model_card

DEFAULT_BASE = "distilbert/distilgpt2"  # the seed recipe's base model


@dataclass
class FinetuneConfig:
    base: str = DEFAULT_BASE  # seed recipe base; any causal LM folder, hub id, or "smollm2" (bundled)
    learning_rate: float = 5e-5  # learning rate (seed recipe)
    optim: str = "adamw_torch"  # AdamW (seed recipe)
    weight_decay: float = 0.0  # AdamW decoupled weight decay
    lr_scheduler: str = "linear"  # Trainer default: linear decay to 0
    warmup_steps: int = 0  # optimizer steps of linear warm-up
    epochs: float = 3.0  # passes over the training data (seed recipe)
    per_device_batch: int = 4  # examples per forward pass
    grad_accum: int = 4  # 4 × 4 = effective batch 16 (seed recipe)
    max_length: int = 256  # tokens per example (seed recipe); longer examples are dropped, never cut
    seed: int = 42  # initialisation and shuffling seed (seed recipe)
    lora: bool = False  # train a LoRA adapter (peft) instead of all weights
    lora_r: int = 16  # LoRA rank
    lora_alpha: int = 32  # LoRA scaling numerator (scale = alpha / r)
    lora_dropout: float = 0.05  # dropout on the LoRA branch
    lora_targets: str = "all-linear"  # every linear layer except the LM head
    merge_lora: bool = False  # save the merged full model instead of the (small) adapter
    init_adapter: str | None = None  # continue training this LoRA adapter folder (on --base) instead of a fresh one
    max_steps: int = -1  # cap on optimizer steps (-1 → run all epochs)
    max_minutes: float | None = None  # stop (and checkpoint) after this much training time
    eval_steps: int | None = None  # evaluate every N steps; None → every epoch
    logging_steps: int = 10  # train-loss log interval (steps)
    save_total_limit: int = 2  # checkpoints kept for --resume
    keep_checkpoints: bool = False  # keep <out>/checkpoints after a run that finished
    resume: bool = False  # continue from the last checkpoint in <out>/checkpoints
    eval_batch: int = 8  # examples per evaluation forward pass
    max_eval_examples: int | None = 200  # validation examples scored at each evaluation (0 or None = all)
    group_by_length: bool = True  # batch examples of similar length (less padding, faster on CPU)

    @property
    def effective_batch(self) -> int:
        return self.per_device_batch * self.grad_accum


def _time_limit_callback(max_minutes: float):
    from transformers import TrainerCallback  # deferred: heavy

    class TimeLimit(TrainerCallback):
        """Stops training (with a checkpoint) once `max_minutes` of training time have passed."""

        def __init__(self) -> None:
            self.start = time.monotonic()
            self.hit = False

        def on_train_begin(self, args, state, control, **kwargs):
            self.start = time.monotonic()

        def on_step_end(self, args, state, control, **kwargs):
            if time.monotonic() - self.start >= max_minutes * 60:
                self.hit = True
                control.should_training_stop = True
                control.should_save = True
            return control

    return TimeLimit()


def _perplexity_trainer():
    from transformers import Trainer  # deferred: heavy

    class PerplexityTrainer(Trainer):
        """Adds perplexity = exp(loss) to every evaluation log (and so to log_history)."""

        def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
            if "eval_loss" in logs:
                logs["eval_perplexity"] = perplexity(logs["eval_loss"])
            super().log(logs, start_time)

    return PerplexityTrainer


def _log_to_stderr(trainer) -> None:
    """Without progress bars the Trainer prints its logs to stdout; keep stdout for the JSON report."""
    from transformers import PrinterCallback, TrainerCallback  # deferred: heavy

    class StderrPrinter(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_local_process_zero and logs:
                print({k: round(v, 4) if isinstance(v, float) else v for k, v in logs.items()}, file=sys.stderr)

    if trainer.pop_callback(PrinterCallback) is not None:
        trainer.add_callback(StderrPrinter())


def perplexity(loss: float) -> float:
    """exp(loss), or inf when that would overflow."""
    return math.exp(loss) if loss < 50 else float("inf")


def _collator(tokenizer):
    from transformers import DataCollatorForSeq2Seq  # deferred: heavy

    # pads input_ids with pad (= eos) and labels with -100, so padding never counts in the loss
    return DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100, return_tensors="pt")


def _load_base(base: str, settings: Settings):
    """(model, tokenizer, spec) through core.models, so a hub id offline fails with one line."""
    run_settings = settings.with_overrides(generator=base)
    model, tokenizer, spec = load_generator(run_settings, resolve_generator(run_settings))
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer, spec


def _tokenized_splits(data, tokenizer, max_length: int, progress: bool):
    train = tokenize_examples(data["train"], tokenizer, max_length, progress)
    val = tokenize_examples(data["validation"], tokenizer, max_length, progress) if "validation" in data else None
    if len(train) == 0:
        raise DataError(f"no training example fits max length {max_length}")
    dropped = {s: len(data[s]) - len(d) for s, d in (("train", train), ("validation", val)) if d is not None}
    val = val.remove_columns(["length"]) if val is not None and len(val) else None
    return train.remove_columns(["length"]), val, dropped


def _warn_on_tokenizer_mismatch(meta: dict, spec) -> None:
    """Prompts are rendered with one model's chat template; training another model on them is allowed but odd."""
    rendered_with = meta.get("tokenizer")
    if rendered_with and rendered_with not in (spec.name, spec.path, "custom tokenizer") and \
            not str(spec.path).endswith(str(rendered_with)):
        print(f"warning: the data was rendered with the tokenizer of '{rendered_with}', not '{spec.name}'",
              file=sys.stderr)


def _last_checkpoint(folder: Path) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint  # deferred: heavy

    return get_last_checkpoint(str(folder)) if folder.is_dir() else None


def finetune(cfg: FinetuneConfig, data_dir: str, out_dir: str, settings: Settings) -> dict:
    """Fine-tune a causal LM on prepared data and save it as an HF folder with a model card.

    Args:
        cfg: the recipe (base model, optimizer, batch, LoRA, time cap, checkpoints, resume).
        data_dir: a folder written by `training.data.prepare`.
        out_dir: where the model, tokenizer, generation config, model card, loss curve, training_report.json
            and prompt_settings.json go; checkpoints go to `<out_dir>/checkpoints`.
        settings: thread count and progress bars (`settings.run`); model resolution (`settings.models`).

    Returns:
        The training report (also written to training_report.json): data sizes, parameters, steps, losses,
        validation loss and perplexity per evaluation, timing and device.

    Raises:
        DataError: no prepared data, no example fits `cfg.max_length`, or `cfg.resume` without a checkpoint.
        ModelUnavailable: the base model cannot be loaded.
    """
    if cfg.init_adapter:
        cfg = replace(cfg, lora=True)  # training an adapter further is LoRA training
    out = Path(out_dir)
    ckpt_dir = out / "checkpoints"
    resume_from = _last_checkpoint(ckpt_dir) if cfg.resume else None
    if cfg.resume and resume_from is None:
        raise DataError(f"--resume: no checkpoint in '{ckpt_dir}'")
    _configure_torch(cfg.seed, settings)
    data, meta = load_prepared(data_dir), read_meta(data_dir)  # fail fast, before loading the model
    model, tokenizer, spec = _load_base(cfg.base, settings)
    _warn_on_tokenizer_mismatch(meta, spec)
    train, val, dropped = _tokenized_splits(data, tokenizer, cfg.max_length, settings.run.progress)
    if val is not None and cfg.max_eval_examples and len(val) > cfg.max_eval_examples:
        val = val.shuffle(seed=cfg.seed).select(range(cfg.max_eval_examples))
    if cfg.lora:
        model = _with_lora(model, cfg)
    trainable, total = _count_params(model)

    time_limit = _time_limit_callback(cfg.max_minutes) if cfg.max_minutes else None
    args = _training_args(cfg, ckpt_dir, len(train), val is not None, settings.run.progress)
    trainer = _perplexity_trainer()(
        model=model, args=args, train_dataset=train, eval_dataset=val, processing_class=tokenizer,
        data_collator=_collator(tokenizer), callbacks=[time_limit] if time_limit else None,
    )
    _log_to_stderr(trainer)
    run = _train_and_evaluate(trainer, resume_from, time_limit, has_val=val is not None)
    _save_model(trainer.model, tokenizer, cfg, out)

    report = {
        "base": cfg.base, "base_model": _portable_base(cfg.base), "base_resolved": spec.name, "lora": cfg.lora,
        "merged": cfg.lora and cfg.merge_lora,
        "config": asdict(cfg), "effective_batch": cfg.effective_batch, "data": str(data_dir),
        "data_sources": sorted((meta.get("sources") or {}).keys()), "data_kinds": meta.get("kinds", {}),
        "train_examples": len(train), "validation_examples": len(val) if val is not None else 0,
        "dropped_too_long": dropped, "trainable_params": trainable, "total_params": total,
        **run, **_device_report(),
    }
    _write_run_files(out, report, meta, trainer.state.log_history)
    if run["finished"] and not cfg.keep_checkpoints:
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    return report


def _configure_torch(seed: int, settings: Settings) -> None:
    """Thread count, progress bars and the initialisation seed, before the model is loaded."""
    import torch  # deferred: heavy
    from transformers.utils import logging as hf_logging  # deferred: heavy

    if settings.run.num_threads:
        torch.set_num_threads(settings.run.num_threads)
    if not settings.run.progress:
        hf_logging.disable_progress_bar()
    torch.manual_seed(seed)


def _with_lora(model, cfg: FinetuneConfig):
    """The model wrapped with a fresh LoRA adapter (peft), or with `cfg.init_adapter` to train on; only the
    adapter's weights train, in float32 (an installed adapter is stored as float16)."""
    from peft import LoraConfig, PeftModel, get_peft_model  # deferred: heavy
    from transformers.pytorch_utils import Conv1D  # deferred: heavy

    if cfg.init_adapter:
        try:
            model = PeftModel.from_pretrained(model, cfg.init_adapter, is_trainable=True)
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(f"cannot load adapter '{cfg.init_adapter}': {str(exc).splitlines()[0]}") from exc
        for param in model.parameters():
            if param.requires_grad:
                param.data = param.data.float()
        return model
    lora = LoraConfig(task_type="CAUSAL_LM", r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                      lora_dropout=cfg.lora_dropout, target_modules=cfg.lora_targets,
                      fan_in_fan_out=any(isinstance(m, Conv1D) for m in model.modules()))  # GPT-2 Conv1D
    return get_peft_model(model, lora)


def _training_args(cfg: FinetuneConfig, ckpt_dir: Path, n_train: int, has_val: bool, progress: bool):
    """The Trainer's arguments for the recipe: evaluate and checkpoint every epoch, or every eval_steps."""
    import torch  # deferred: heavy
    from transformers import TrainingArguments  # deferred: heavy

    per_epoch = max(1, math.ceil(n_train / cfg.effective_batch))
    by_steps = cfg.eval_steps is not None
    return TrainingArguments(
        output_dir=str(ckpt_dir), seed=cfg.seed, report_to="none", disable_tqdm=not progress,
        per_device_train_batch_size=cfg.per_device_batch, per_device_eval_batch_size=cfg.eval_batch,
        gradient_accumulation_steps=cfg.grad_accum, num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        learning_rate=cfg.learning_rate, optim=cfg.optim, weight_decay=cfg.weight_decay,
        lr_scheduler_type=cfg.lr_scheduler, warmup_steps=cfg.warmup_steps,
        fp16=torch.cuda.is_available(),  # seed recipe: fp16 only on CUDA
        eval_strategy=("steps" if by_steps else "epoch") if has_val else "no", eval_steps=cfg.eval_steps,
        save_strategy="steps" if by_steps else "epoch", save_steps=cfg.eval_steps,
        save_total_limit=cfg.save_total_limit, save_only_model=False,
        logging_strategy="steps", logging_steps=max(1, min(cfg.logging_steps, per_epoch)), logging_first_step=True,
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
        dataloader_num_workers=0, dataloader_pin_memory=torch.cuda.is_available(), remove_unused_columns=False,
    )


def _train_and_evaluate(trainer, resume_from: str | None, time_limit, has_val: bool) -> dict:
    """Train (from `resume_from` when given), evaluate once more, and return the run's report fields."""
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume_from)
    seconds = time.perf_counter() - started
    state = trainer.state
    steps_run = state.global_step - (_step_of(resume_from) if resume_from else 0)
    final = trainer.evaluate() if has_val else {}
    evaluations = {  # one per step: the final evaluation may share the last periodic one's step (the later wins)
        h["step"]: {"step": h["step"], "epoch": h.get("epoch"), "eval_loss": h["eval_loss"],
                    "eval_perplexity": h.get("eval_perplexity")}
        for h in state.log_history if "eval_loss" in h
    }
    return {
        "global_step": state.global_step, "planned_steps": state.max_steps, "steps_this_run": steps_run,
        "epochs_done": round(state.epoch or 0.0, 3), "train_seconds": round(seconds, 1),
        "seconds_per_step": round(seconds / max(1, steps_run), 3),
        "stopped_by_time_limit": bool(time_limit and time_limit.hit),
        "finished": state.global_step >= state.max_steps, "resumed_from": resume_from,
        "train_loss": result.training_loss,
        "eval_loss": final.get("eval_loss"), "eval_perplexity": final.get("eval_perplexity"),
        "evaluations": list(evaluations.values()),
    }


def _save_model(model, tokenizer, cfg: FinetuneConfig, out: Path) -> None:
    """Weights (the LoRA adapter, or a full model), tokenizer and generation config into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    if cfg.lora:
        model.peft_config["default"].base_model_name_or_path = _portable_base(cfg.base)
        if cfg.merge_lora:
            model = model.merge_and_unload()
    if cfg.lora and not cfg.merge_lora:  # the adapter only; no hub lookup for the base's embeddings
        model.save_pretrained(out, save_embedding_layers=False)
    else:
        model.save_pretrained(out)  # safetensors (the transformers default)
    tokenizer.save_pretrained(out)
    _generation_config(model, tokenizer).save_pretrained(out)


def _device_report() -> dict:
    import torch  # deferred: heavy

    cuda = torch.cuda.is_available()
    return {"device": "cuda" if cuda else "cpu", "fp16": cuda, "threads": torch.get_num_threads()}


def _write_run_files(out: Path, report: dict, meta: dict, log_history: list[dict]) -> None:
    """loss_curve.png, training_report.json, prompt_settings.json, log_history.json and the model card."""
    report["loss_curve"] = plot_loss_curve(log_history, out / "loss_curve.png")
    (out / "training_report.json").write_text(json.dumps(report, indent=2, default=str))
    if meta.get("prompt_settings"):  # the core.config.Settings the training prompts were rendered with
        (out / "prompt_settings.json").write_text(json.dumps(meta["prompt_settings"], indent=2))
    (out / "log_history.json").write_text(json.dumps(log_history, indent=1))
    write_model_card(out, report, meta)


def _step_of(checkpoint: str) -> int:
    try:
        return int(Path(checkpoint).name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0


def _portable_base(base: str) -> str:
    """The base as the adapter should name it: bundled aliases → hub id, folders → absolute path."""
    if base in GENERATOR_ALIASES:
        return SMOLLM2_HUB_ID
    return str(Path(base).resolve()) if Path(base).is_dir() else base


def _count_params(model) -> tuple[int, int]:
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def _generation_config(model, tokenizer):
    from transformers import GenerationConfig  # deferred: heavy

    base = getattr(model, "get_base_model", lambda: model)()
    generation = getattr(base, "generation_config", None) or GenerationConfig()
    generation.pad_token_id = tokenizer.pad_token_id
    generation.eos_token_id = tokenizer.eos_token_id
    return generation


# ---------------------------------------------------------------- validation loss / perplexity report

def evaluate_perplexity(model_dir: str, data_dir: str, settings: Settings, split: str = "validation",
                        max_length: int = 256, batch_size: int = 8) -> dict:
    """Loss and perplexity of a model on a prepared split (loss on answer tokens only, as in training).

    Args:
        model_dir: a model folder, hub id or alias, resolved like the generator (an adapter loads on its base).
        data_dir: a folder written by `training.data.prepare`.
        settings: thread count, progress bars and model resolution.
        split: the prepared split to score.
        max_length: examples longer than this many tokens are dropped, as in training.
        batch_size: examples per evaluation forward pass.

    Returns:
        {"model", "data", "split", "examples", "loss", "perplexity" (exp(loss)), "seconds"}.

    Raises:
        DataError: the prepared data has no such split, or it is empty.
        ModelUnavailable: the model cannot be loaded.
    """
    import torch  # deferred: heavy
    from transformers import TrainingArguments  # deferred: heavy

    model, tokenizer, spec = _load_base(model_dir, settings)
    data = load_prepared(data_dir)
    if split not in data or len(data[split]) == 0:
        raise DataError(f"'{data_dir}' has no '{split}' examples")
    ds = tokenize_examples(data[split], tokenizer, max_length, settings.run.progress).remove_columns(["length"])
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(output_dir=tmp, per_device_eval_batch_size=batch_size, report_to="none",
                                 disable_tqdm=not settings.run.progress, remove_unused_columns=False,
                                 dataloader_pin_memory=torch.cuda.is_available())
        trainer = _perplexity_trainer()(model=model, args=args, eval_dataset=ds, processing_class=tokenizer,
                                        data_collator=_collator(tokenizer))
        _log_to_stderr(trainer)
        metrics = trainer.evaluate()
    return {"model": spec.name, "data": str(data_dir), "split": split, "examples": len(ds),
            "loss": metrics["eval_loss"], "perplexity": perplexity(metrics["eval_loss"]),
            "seconds": metrics.get("eval_runtime")}
