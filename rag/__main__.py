"""`python -m rag ask|chat|plot|eval|compare`: the shell lives in cli (also `movie-rag ask` etc.)."""
import sys

from cli.main import rag_main as main

if __name__ == "__main__":
    sys.exit(main())
