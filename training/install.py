"""Install a fine-tuned model folder as the project's default generator (ModelConfig.finetuned_generator).

`python -m training install RUN_DIR [--to DIR] [--dtype float16] [--eval-report FILE]` copies the files of the
folder written by `finetune` (adapter or full model, tokenizer, prompt_settings.json, model card, loss curve and
training report; not checkpoints/). Weights are stored in `--dtype`: float16 halves a float32 adapter, and
core.models loads it onto the float32 base. The copy is written next to the target and swapped into place
(core.fileio), so a failed install leaves the old one intact.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from core.errors import InstallError
from core.fileio import replace_dir, staging_dir

WEIGHT_FILES = ("adapter_model.safetensors", "model.safetensors")
DTYPES = ("float32", "float16", "bfloat16")


def eval_section(report: dict) -> str:
    """Model-card lines for a `python -m rag eval` report.json (overall metrics per mode)."""
    meta = report.get("meta", {})
    rows = []
    for mode in ("rag", "plain"):
        m = report.get(mode)
        if m:
            cells = [m.get(k) for k in ("hits@1", "any_hit", "f1", "bertscore_f1_rescaled", "recall@k", "n")]
            text = ["n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v) for v in cells]
            rows.append(f"| {mode} | " + " | ".join(text) + " |")
    return (f"\n## RAG evaluation\n\n`python -m rag eval` on {meta.get('questions_file', '?')} "
            f"({meta.get('n', '?')} questions, seed {meta.get('seed', '?')}; "
            f"index of {meta.get('index_passages', '?')} passages). Full report: eval_report.json.\n\n"
            "| mode | hits@1 | any-hit | token F1 | BERTScore F1 (rescaled) | recall@k | n |\n"
            "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")


def install_model(run_dir: str | Path, target: str | Path, dtype: str = "float16",
                  eval_report: str | None = None) -> dict:
    """Copy a fine-tuned run folder to `target` in one atomic swap, casting floating-point weights to `dtype`.

    Args:
        run_dir: a folder written by `training.finetune.finetune` (checkpoints/ are not copied).
        target: the install folder, e.g. settings.models.finetuned_generator; an old install is replaced whole.
        dtype: float32, float16 or bfloat16 for the stored weights (integer tensors keep theirs).
        eval_report: a `python -m rag eval` report.json, copied as eval_report.json and summarised in the card.

    Returns:
        {"installed", "from", "dtype", "files", "megabytes"}; all but "installed" also go to install.json.

    Raises:
        InstallError: no weights, no prompt_settings.json, or an unknown dtype.
    """
    import torch  # deferred: heavy
    from safetensors.torch import load_file, save_file  # deferred: imports torch

    run_dir, target = Path(run_dir), Path(target)
    weights = [run_dir / f for f in WEIGHT_FILES if (run_dir / f).is_file()]
    if not weights:
        raise InstallError(f"{run_dir} has no {' or '.join(WEIGHT_FILES)}; pass a folder written by `finetune`")
    if not (run_dir / "prompt_settings.json").is_file():
        raise InstallError(f"{run_dir} has no prompt_settings.json; the pipeline would not know its prompt format")
    if dtype not in DTYPES:
        raise InstallError(f"unknown dtype {dtype!r}; use one of {', '.join(DTYPES)}")
    with staging_dir(target) as staging:
        for path in run_dir.iterdir():  # files only: checkpoints/ stay behind
            if path.is_file() and path.name not in WEIGHT_FILES:
                shutil.copy2(path, staging / path.name)
        for path in weights:
            tensors = load_file(str(path))
            cast = {k: v.to(getattr(torch, dtype)) if v.is_floating_point() else v for k, v in tensors.items()}
            save_file(cast, str(staging / path.name), metadata={"format": "pt"})
        if eval_report:
            shutil.copy2(eval_report, staging / "eval_report.json")
            card = staging / "README.md"
            if card.is_file():
                card.write_text(card.read_text() + eval_section(json.loads(Path(eval_report).read_text())))
        files = sorted(p.name for p in staging.iterdir())
        size = sum(p.stat().st_size for p in staging.iterdir())
        info = {"installed": str(target), "from": str(run_dir), "dtype": dtype, "files": files,
                "megabytes": round(size / 1e6, 2)}
        (staging / "install.json").write_text(json.dumps({k: v for k, v in info.items() if k != "installed"}, indent=2))
        replace_dir(staging, target)
    return info
