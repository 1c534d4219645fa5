"""`python -m index build|add|info|pack|unpack`: the shell lives in cli (also `movie-rag index ...`)."""
import sys

from cli.main import index_main as main

if __name__ == "__main__":
    sys.exit(main())
