"""Answering a question from the index. The question becomes a typed plan (`plan`, `planner`, `plan_*`); a
confident exact plan runs on the catalog store (`execute`) and its fact lines are the evidence, else hybrid
retrieval finds passages (`retrieve`: dense + BM25 + fusion + linking); `evidence` chooses. Then prompts
(`prompt`), generation (`generate`), and the one batched answer flow `Pipeline.ask_batch` with its streaming
variant and plot continuation (`pipeline`, answers in `answer`). In a chat, `conversation` rewrites follow-ups
against the films and people of earlier turns (`memory`, `followup`). `ui` holds the demo's Gradio-free callbacks."""
