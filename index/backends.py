"""Which store holds the index: files on this machine (FAISS + BM25 segments) or Milvus.

``DAFU_BACKEND=faiss`` (default) or ``milvus`` (with ``DAFU_MILVUS_URI``). Everything that opens or
writes an index (CLI, service, eval) goes through these three functions.
"""
from __future__ import annotations

from index.settings import Settings


def open_store(settings: Settings):
    """IndexStore (index/store.py) or MilvusStore (index/milvus.py): exists(), current_version(),
    load(), manifest(), write_lock(), size_on_disk()."""
    if settings.backend == "milvus":
        from index.milvus import MilvusStore

        return MilvusStore(settings)
    from index.store import IndexStore

    return IndexStore(settings.resolved_index_dir)


def make_indexer(settings: Settings, encoder=None, progress: bool = False, workers: int | None = None):
    """The Indexer for the configured backend (build, add, remove, rebuild, compact)."""
    if settings.backend == "milvus":
        from index.milvus_build import MilvusIndexer

        return MilvusIndexer(settings, encoder=encoder, progress=progress, workers=workers)
    from index.builder import Indexer

    return Indexer(settings, encoder=encoder, progress=progress, workers=workers)


def describe(settings: Settings) -> str:
    """Where the index is, in words (for messages)."""
    if settings.backend == "milvus":
        from index.milvus import MilvusStore

        st = MilvusStore(settings)
        return f"Milvus {st.uri} (collections {st.prefix}_*)"
    return str(settings.resolved_index_dir)
