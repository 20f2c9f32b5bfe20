"""Domain errors. The core raises these; the CLI and the API translate them."""
from __future__ import annotations


class DafuError(Exception):
    """Base class: the message says what was received, what was expected and how to fix it."""


class ParseError(DafuError):
    def __init__(self, path: str, line: int | None, expected: str, got: str = ""):
        self.path, self.line, self.expected, self.got = path, line, expected, got
        where = f"{path}:{line}" if line else path
        msg = f"{where}: expected {expected}"
        if got:
            msg += f", found {got!r}"
        super().__init__(msg)


class UnsupportedFormatError(DafuError):
    pass


class IndexNotFoundError(DafuError):
    pass


class IndexCorruptError(DafuError):
    """The index folder holds something, but not a version that can be served (damaged, mismatched)."""


class IndexUnreadableError(IndexCorruptError):
    """The index exists but cannot be read (permissions, I/O error)."""


class IndexWriteError(DafuError):
    """A new version could not be written (disk full, read-only); the live version is unchanged."""


class ModelMismatchError(DafuError):
    def __init__(self, index_model: str, index_dim: int, configured: str):
        self.index_model, self.index_dim, self.configured = index_model, index_dim, configured
        super().__init__(
            f"this index was built with embedding model {index_model!r} (dim {index_dim}), "
            f"but the configured model is {configured!r}; set DAFU_EMBED_MODEL={index_model} "
            f"or rebuild the index with `dafu index build … --index DIR`"
        )


class UnknownReplyError(DafuError):
    def __init__(self, reply_id: str):
        self.reply_id = reply_id
        super().__init__(f"no reply with id {reply_id!r} in the index; `dafu index list` shows the ids")


class ModelLoadError(DafuError):
    pass
