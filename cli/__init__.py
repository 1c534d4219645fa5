"""The command-line shells, at the top of the layers: `movie-rag` (cli.main:main) and the `python -m rag|index|
training` entry points. One module per command group; each only parses flags (generated from the config
dataclasses by core.flags), calls the library, and prints. Errors go through core.flags.run_command:
`error: <one line>` on stderr, exit code 2."""
