"""`python -m training prepare|finetune|perplexity|install`: the shell lives in cli (also `movie-rag train ...`)."""
import sys

from cli.main import training_main as main

if __name__ == "__main__":
    sys.exit(main())
