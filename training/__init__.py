"""Training data preparation and fine-tuning of the answer generator."""
