"""Retrieval-augmented movie question answering: retrieve, prompt, generate, evaluate."""
