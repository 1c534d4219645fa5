"""Tiny LoRA adapters on the tiny GPT-2 fixture (tests/conftest.py), as `training finetune --lora` saves them."""
from __future__ import annotations

from pathlib import Path


def make_lora_adapter(base_dir: Path, out: Path, seed: int) -> Path:
    """A random (non-zero) LoRA adapter on `base_dir`, saved with the tokenizer like a finetune run folder."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(base_dir)
    config = LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8, target_modules=["c_attn", "c_proj", "c_fc"],
                        fan_in_fan_out=True, init_lora_weights=False)  # random B: the adapter changes the model
    peft = get_peft_model(model, config)
    peft.peft_config["default"].base_model_name_or_path = str(base_dir)
    peft.save_pretrained(out, save_embedding_layers=False)
    AutoTokenizer.from_pretrained(base_dir).save_pretrained(out)
    return out
