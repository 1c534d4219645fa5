"""Fine-tuning the answer generator: QA pairs from files, datasets and the KB (`qa_pairs`, `kb_questions`),
examples rendered with the pipeline's own prompts (`examples`, `data`), the Trainer run with LoRA and
perplexity reports (`finetune`, `model_card`), and installing a run as the default generator (`install`)."""
