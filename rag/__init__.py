"""Answering a question from the index: retrieval (dense + BM25 + fusion + linking, `retrieve`), prompts
(`prompt`), generation (`generate`), and the one batched answer flow `Pipeline.ask_batch` with its streaming
variant and plot continuation (`pipeline`). `ui` holds the demo's Gradio-free callbacks."""
