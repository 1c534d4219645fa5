"""The bottom layer: imports nothing else from the project, and everything else may import it.

Owns the settings (`config`: one dataclass per stage, composed into `Settings`), the flags generated from them
and the one error convention of every command (`flags`), the error classes (`errors`), the records that flow
through the system (`records`: Movie, Passage, Question, passage kinds and retrieval stages, key builders, the
one text normaliser), atomic folder replacement and writer locks (`fileio`), and offline-first model
resolution and loading (`models`).
"""
