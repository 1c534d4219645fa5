"""The loss-curve PNG and the README.md model card written next to a fine-tuned model."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def plot_loss_curve(log_history: list[dict], path: Path) -> str | None:
    """Train loss and validation loss (with perplexity on a second axis) against optimizer steps."""
    import matplotlib  # deferred: heavy

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred: heavy

    train = [(h["step"], h["loss"]) for h in log_history if "loss" in h and "eval_loss" not in h]
    evals = [(h["step"], h["eval_loss"]) for h in log_history if "eval_loss" in h]
    if not train and not evals:
        return None
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    if train:
        ax.plot(*zip(*train), label="train loss", color="tab:blue", alpha=0.8)
    if evals:
        ax.plot(*zip(*evals), "o-", label="validation loss", color="tab:orange")
        ppl = ax.secondary_yaxis("right", functions=(_exp, _log))
        ppl.set_ylabel("validation perplexity = exp(loss)")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (answer tokens)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path.name


def _exp(x):
    return np.exp(np.clip(x, -50, 50))


def _log(x):
    return np.log(np.clip(x, 1e-12, None))


def _yaml_list(items: list[str]) -> str:
    return "\n".join(f"- {json.dumps(i)}" for i in items) if items else "[]"


def write_model_card(out: Path, report: dict, meta: dict) -> Path:
    """README.md with a YAML header (base_model, library_name, tags, datasets, metrics) and the run's numbers."""
    path = out / "README.md"
    path.write_text(_card_header(report) + _card_body(out.name, report, meta))
    return path


def _is_adapter(report: dict) -> bool:
    return report["lora"] and not report["merged"]


def _is_plot_model(report: dict) -> bool:
    """Trained on plot continuation only (training.lm_data), not on answering."""
    kinds = set(report.get("data_kinds") or {})
    return bool(kinds) and kinds <= {"lm-plot"}


def _card_header(report: dict) -> str:
    """The Hugging Face model card metadata (YAML front matter)."""
    tags = ["text-generation", "movies"] + (["plot-continuation"] if _is_plot_model(report) else
                                             ["question-answering", "rag"]) + ["movie-rag"]
    tags += ["lora", "peft"] if report["lora"] else []
    return f"""---
base_model: {report.get("base_model") or report["base"]}
library_name: {"peft" if _is_adapter(report) else "transformers"}
pipeline_tag: text-generation
tags:
{_yaml_list(tags)}
datasets:
{_yaml_list(report["data_sources"] or ["custom"])}
metrics:
- loss
- perplexity
---
"""


def _card_body(name: str, report: dict, meta: dict) -> str:
    # long on purpose: one markdown template (values prepared first), so the card's layout reads top to bottom
    cfg = report["config"]
    base = report.get("base_model") or report["base"]
    datasets = report["data_sources"] or ["custom"]
    kinds = ", ".join(f"{k}: {n}" for k, n in sorted(report["data_kinds"].items())) or "n/a"
    eval_rows = "\n".join(
        f"| {e['step']} | {round(e['epoch'], 3) if e['epoch'] is not None else ''} | {e['eval_loss']:.4f} "
        f"| {e['eval_perplexity']:.2f} |"
        for e in report["evaluations"]
    ) or "| – | – | – | – |"
    final = (f"validation loss **{report['eval_loss']:.4f}**, perplexity **{report['eval_perplexity']:.2f}**"
             if report.get("eval_loss") is not None else "no validation split")
    usage = ("It is a PEFT LoRA adapter; core.models loads it on its base model (and merges it)"
             if _is_adapter(report) else "It is a standard transformers causal LM folder")
    method = (f"LoRA r={cfg['lora_r']}, alpha={cfg['lora_alpha']}, dropout={cfg['lora_dropout']}, "
              f"targets {cfg['lora_targets']}" if report["lora"] else "full fine-tune")
    if cfg.get("init_adapter"):  # the r/alpha of the adapter it continued
        method = f"LoRA, continued from the adapter `{cfg['init_adapter']}` (its rank and targets)"
    optimizer = (f"{cfg['optim']} (AdamW), lr {cfg['learning_rate']}, weight decay {cfg['weight_decay']}, "
                 f"{cfg['lr_scheduler']} schedule, warm-up {cfg['warmup_steps']}")
    stopped = "— stopped by the time limit" if report["stopped_by_time_limit"] else ""
    resumed = f" — resumed from {report['resumed_from']}" if report["resumed_from"] else ""
    purpose = ("to continue a movie plot from its opening, conditioned on a genre, in the pipeline's plot prompt "
               "(rag.prompt.render_plot_prompt; settings.models.plot_generator)" if _is_plot_model(report) else
               "to answer movie questions from retrieved passages in the project's RAG prompt format\n"
               "(and to abstain when the passages do not hold the answer)")
    quality = ("Plot quality (the junk rate of sampled continuations) is measured with `python -m evaluation.plots`"
               if _is_plot_model(report) else
               "Answer quality (hits@1, BERTScore against the zero-shot model) is measured with `python -m rag eval`")
    return f"""
# {name}

Fine-tuned from `{base}` ({report['base_resolved']}) by `python -m training finetune` of the movie RAG
project, {purpose}. {usage}.

## Data

- Prepared data: `{report['data']}` (sources: {', '.join(datasets)})
- Examples: {report['train_examples']} train, {report['validation_examples']} validation
  (dropped as longer than {cfg['max_length']} tokens: {report['dropped_too_long']})
- Kinds: {kinds}
- Prompts rendered with tokenizer of `{meta.get('tokenizer', 'n/a')}`; prompt settings {meta.get('prompt_settings', {})}
- Loss on answer (completion) tokens only (prompt tokens are masked with -100).

## Hyperparameters

| setting | value |
|---|---|
| method | {method} |
| trainable parameters | {report['trainable_params']:,} of {report['total_params']:,} |
| optimizer | {optimizer} |
| batch | {cfg['per_device_batch']} × {cfg['grad_accum']} accumulation = effective {report['effective_batch']} |
| epochs / max steps | {cfg['epochs']} / {cfg['max_steps']} (time cap {cfg['max_minutes']} min) |
| max length | {cfg['max_length']} tokens, pad = eos |
| precision | {"fp16" if report['fp16'] else "fp32"} on {report['device']} ({report['threads']} threads) |
| seed | {cfg['seed']} |

## Training run

- Steps: {report['global_step']} of {report['planned_steps']} planned ({report['epochs_done']} epochs);
  this run: {report['steps_this_run']} steps in {report['train_seconds']} s ({report['seconds_per_step']} s/step)
  {stopped}{resumed}
- Mean train loss: {report['train_loss']:.4f}
- Final: {final}

## Evaluation results (validation split)

| step | epoch | loss | perplexity |
|---|---|---|---|
{eval_rows}

{"![loss curve](loss_curve.png)" if report.get('loss_curve') else ""}

{quality};
see the project README.
"""
