"""Every error the library raises on purpose. str() is always one line that names the file or value and says
what to do; the CLIs and the app print it as `error: <line>` (exit code 2) instead of a traceback."""
from __future__ import annotations


class MovieRagError(Exception):
    """Base class: anything the user can fix (a bad file, a missing model, a wrong flag)."""


class ConfigError(MovieRagError, ValueError):
    """A setting or flag value is out of range or unknown."""


class InputError(MovieRagError, ValueError):
    """A question or plot opening that cannot be answered as given (empty, unknown mode, no index loaded)."""


class PlanError(MovieRagError, ValueError):
    """Text that is not a plan of the plan grammar (rag.plan), or a plan that cannot run."""


class CatalogError(MovieRagError, ValueError):
    """A catalog file cannot be read."""


class IndexLoadError(MovieRagError, RuntimeError):
    """An index folder is missing, corrupt, or was built with another embedder."""


class IndexWriteError(MovieRagError, OSError):
    """An index folder cannot be written (a full disk, an I/O error); the message says whether the old one is kept."""


class ModelUnavailable(MovieRagError, RuntimeError):
    """A model could not be found or loaded; the message says what to do."""


class QuestionsError(MovieRagError, ValueError):
    """A questions file cannot be read."""


class CompareError(MovieRagError, ValueError):
    """Two evaluation runs cannot be compared (missing file, mode or overlap)."""


class DataError(MovieRagError, ValueError):
    """Training data cannot be prepared or read."""


class InstallError(MovieRagError, ValueError):
    """A fine-tuning run folder cannot be installed as the default generator."""
