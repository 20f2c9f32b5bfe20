"""On-disk index versions with an atomic swap, checked whole on every load.

Layout of an index folder::

    CURRENT                 name of the live version (replaced atomically with os.replace)
    PREVIOUS                name of the version that was live before it (kept until the next swap)
    v-<time>-<rand>/        one complete version: manifest.json, replies.jsonl, chunks.jsonl,
                            vectors.npy, dense.faiss, bm25/, sentences.npz + sentence_vectors.npy
    .build-<rand>/          a version being written; never read
    .CURRENT.<rand>         the next CURRENT being written; never read

A build writes a new version beside the live one, fsyncs its files and the folders, and only then
points CURRENT at it, so a crash, a kill or a full disk half-way leaves the previous version serving.

Three states, told apart everywhere (:meth:`IndexStore.state`):

- **absent**: no CURRENT and no version — the only state in which the bundled sample may be built;
- **unreadable**: CURRENT or a file of the version cannot be read (permissions, I/O error);
- **corrupt**: CURRENT names nothing, or the version fails validation: the manifest lacks a field,
  a file's checksum differs from the one the manifest records, or the counts disagree
  (replies, chunks = vectors = FAISS size = BM25 size; dim as recorded).

A damaged index is never treated as an empty one: loading raises IndexUnreadableError /
IndexCorruptError (one line: what is wrong and how to fix it), and writers that extend the live
version refuse to run over it.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from index.bm25 import BM25Index
from index.commitments import Commitment
from index.dense import DenseIndex
from index.errors import (DafuError, IndexCorruptError, IndexNotFoundError, IndexUnreadableError, IndexWriteError,
                          UnknownReplyError)
from index.records import Chunk, Reply
from index.sentences import SentenceTable

FORMAT_VERSION = 1
STALE_SECONDS = 3600  # leftovers of another process are removed only once this old (when we do not hold the lock)
MANIFEST_FIELDS: dict[str, type] = {"model": str, "dim": int, "replies": int, "chunks": int}
OPTIONAL_FILES = {"commitments.jsonl"}  # parts a version may lack (tracking is then unavailable, answering is not)


@dataclass
class LoadedIndex:
    """A whole index version in memory. Immutable once loaded: a swap loads a new one."""

    version: str
    manifest: dict
    replies: dict[str, Reply]
    chunks: list[Chunk]
    vectors: np.ndarray
    dense: DenseIndex
    bm25: BM25Index
    sentences: SentenceTable | None = None  # None for indexes written before sentence vectors
    commitments: list[Commitment] | None = None  # the replies' promises (index.commitments); None: written before them
    chunk_reply: np.ndarray = field(init=False)  # position of each chunk's reply in reply_ids
    reply_ids: list[str] = field(init=False)
    reply_chunks: dict[str, np.ndarray] = field(init=False)  # reply id -> positions of its chunks

    def __post_init__(self) -> None:
        self.reply_ids = list(self.replies)
        pos = {rid: i for i, rid in enumerate(self.reply_ids)}
        self.chunk_reply = np.array([pos[c.reply_id] for c in self.chunks], dtype=np.int64)
        groups: dict[str, list[int]] = {rid: [] for rid in self.reply_ids}
        for i, c in enumerate(self.chunks):
            groups[c.reply_id].append(i)
        self.reply_chunks = {rid: np.array(ix, dtype=np.int64) for rid, ix in groups.items()}

    @property
    def model(self) -> str:
        return self.manifest["model"]

    def reply(self, reply_id: str) -> Reply:
        try:
            return self.replies[reply_id]
        except KeyError:
            raise UnknownReplyError(reply_id) from None

    def chunks_of(self, reply_id: str) -> list[Chunk]:
        return [self.chunks[i] for i in self.reply_chunks.get(reply_id, [])]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in `path` durable (the entry lives in the folder, not the file)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _why(e: OSError) -> str:
    name = errno.errorcode.get(e.errno or 0, "")
    return f"{e.strerror or e}" + (f" ({name})" if name else "")


class IndexStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock_depth = 0

    # -- state -------------------------------------------------------------
    def versions(self) -> list[Path]:
        try:
            return sorted(p for p in self.root.glob("v-*") if p.is_dir())
        except OSError:
            return []

    def _rebuild_hint(self) -> str:
        return f"rebuild with `dafu index build PATH… --index {self.root}`, or write the name of a good version into {self.root / 'CURRENT'}"

    def current_version(self) -> Path | None:
        """The live version's folder; None when the index is absent. Raises when it is damaged."""
        cur = self.root / "CURRENT"
        try:
            name = cur.read_text("utf-8").strip()
        except FileNotFoundError:
            found = self.versions()
            if found:
                raise IndexCorruptError(
                    f"index at {self.root} has no CURRENT but holds {len(found)} version(s) "
                    f"({', '.join(p.name for p in found[-3:])}); {self._rebuild_hint()}") from None
            return None
        except (OSError, UnicodeDecodeError) as e:
            why = _why(e) if isinstance(e, OSError) else "not UTF-8 text"
            raise IndexUnreadableError(f"{cur} cannot be read: {why}; check the folder's permissions and the disk") from e
        path = self.root / name
        if not name or "/" in name or name.startswith(".") or not path.is_dir():
            raise IndexCorruptError(f"{cur} names version {name[:80]!r}, which does not exist in {self.root}; {self._rebuild_hint()}")
        return path

    def state(self) -> tuple[str, str]:
        """("absent" | "ok" | "unreadable" | "corrupt", detail) from CURRENT alone (cheap; load() checks the rest)."""
        try:
            v = self.current_version()
        except IndexUnreadableError as e:
            return "unreadable", str(e)
        except IndexCorruptError as e:
            return "corrupt", str(e)
        return ("absent", "") if v is None else ("ok", v.name)

    def is_absent(self) -> bool:
        """True only when there is nothing at all: no CURRENT and no version (a damaged index is not absent)."""
        return self.state()[0] == "absent"

    def exists(self) -> bool:
        """True when CURRENT names an existing version (False when absent or damaged)."""
        return self.state()[0] == "ok"

    def manifest(self) -> dict:
        v = self._require()
        return self._read_manifest(v)

    def _require(self) -> Path:
        v = self.current_version()
        if v is None:
            raise IndexNotFoundError(
                f"no index at {self.root}; build one with `dafu index build PATH… --index {self.root}`"
            )
        return v

    # -- loading and validation ----------------------------------------------
    def _damaged(self, v: Path, what: str) -> IndexCorruptError:
        return IndexCorruptError(f"index version {v.name} in {self.root} is damaged: {what}; {self._rebuild_hint()}")

    def _part(self, v: Path, rel: str, read: Callable[[Path], Any]) -> Any:
        path = v / rel
        try:
            return read(path)
        except DafuError:
            raise
        except FileNotFoundError:
            raise self._damaged(v, f"{rel} is missing") from None
        except PermissionError as e:
            raise IndexUnreadableError(f"{path} cannot be read: {_why(e)}; check the folder's permissions") from e
        except OSError as e:
            if e.errno in (errno.EIO, errno.EACCES, errno.ENXIO):
                raise IndexUnreadableError(f"{path} cannot be read: {_why(e)}; check the disk") from e
            raise self._damaged(v, f"{rel} cannot be read ({type(e).__name__}: {e})") from e
        except Exception as e:  # faiss RuntimeError, json/numpy/bm25s errors from a truncated or foreign file
            msg = " ".join(str(e).split())[:200]
            raise self._damaged(v, f"{rel} cannot be parsed ({type(e).__name__}: {msg})") from e

    def _read_manifest(self, v: Path) -> dict:
        m = self._part(v, "manifest.json", lambda p: json.loads(p.read_text("utf-8")))
        if not isinstance(m, dict):
            raise self._damaged(v, "manifest.json is not a JSON object")
        if m.get("format") != FORMAT_VERSION:
            raise IndexCorruptError(f"index at {v} has format {m.get('format')!r}, this dafu reads format {FORMAT_VERSION}; "
                                    f"{self._rebuild_hint()}")
        for key, typ in MANIFEST_FIELDS.items():
            val = m.get(key)
            if not isinstance(val, typ) or isinstance(val, bool) or (typ is str and not val) or (typ is int and val < 0):
                raise self._damaged(v, f"manifest.json has no valid {key!r} (found {val!r}; expected {typ.__name__})")
        if m["dim"] < 1:
            raise self._damaged(v, f"manifest.json records dim {m['dim']}")
        return m

    def _verify_files(self, v: Path, manifest: dict) -> None:
        files = manifest.get("files")
        if files is None:
            return  # written before checksums were recorded: the count checks below still apply
        if not isinstance(files, dict):
            raise self._damaged(v, "manifest.json 'files' is not an object")
        for rel, rec in sorted(files.items()):
            if not isinstance(rec, dict) or ".." in Path(rel).parts:
                raise self._damaged(v, f"manifest.json has a bad entry for {rel!r}")
            if rel in OPTIONAL_FILES and not (v / rel).exists():
                continue  # an optional part taken away: the version loads as one written before it existed
            size = self._part(v, rel, lambda p: p.stat().st_size)
            if size != rec.get("bytes"):
                raise self._damaged(v, f"{rel} has {size} bytes, the manifest records {rec.get('bytes')} "
                                       f"(truncated, or copied from another version)")
            digest = self._part(v, rel, file_sha256)
            if digest != rec.get("sha256"):
                raise self._damaged(v, f"{rel} does not match its checksum in the manifest (changed, or copied from another version)")

    @staticmethod
    def _read_replies(p: Path) -> dict[str, Reply]:
        out = {}
        with open(p, encoding="utf-8") as f:
            for line in f:
                r = Reply.from_dict(json.loads(line))
                out[r.id] = r
        return out

    @staticmethod
    def _read_chunks(p: Path) -> list[Chunk]:
        with open(p, encoding="utf-8") as f:
            return [Chunk.from_dict(json.loads(line)) for line in f]

    def load(self) -> LoadedIndex:
        v = self._require()
        manifest = self._read_manifest(v)
        self._verify_files(v, manifest)
        replies = self._part(v, "replies.jsonl", self._read_replies)
        chunks = self._part(v, "chunks.jsonl", self._read_chunks)
        vectors = self._part(v, "vectors.npy", lambda p: np.load(p, allow_pickle=False))
        dense = self._part(v, "dense.faiss", DenseIndex.load)
        bm25 = self._part(v, "bm25", BM25Index.load)
        sentences = self._part(v, "sentences.npz", lambda p: SentenceTable.load(p.parent))
        commitments = self._part(v, "commitments.jsonl", lambda p: _load_commitments(p.parent))
        n, dim = manifest["chunks"], manifest["dim"]
        problems = []
        if len(replies) != manifest["replies"]:
            problems.append(f"replies.jsonl holds {len(replies)} replies, the manifest records {manifest['replies']}")
        if len(chunks) != n:
            problems.append(f"chunks.jsonl holds {len(chunks)} chunks, the manifest records {n}")
        if vectors.ndim != 2 or vectors.shape != (n, dim):
            problems.append(f"vectors.npy has shape {tuple(vectors.shape)}, expected ({n}, {dim})")
        if dense.size != n or dense.dim != dim:
            problems.append(f"dense.faiss holds {dense.size} vectors of dim {dense.dim}, expected {n} of dim {dim}")
        if bm25.size != n:
            problems.append(f"bm25/ covers {bm25.size} chunks, expected {n}")
        if sentences is not None:
            ns = len(sentences)
            if "sentences" in manifest and ns != manifest["sentences"]:
                problems.append(f"sentences.npz holds {ns} sentences, the manifest records {manifest['sentences']}")
            if sentences.vectors.shape != (ns, dim):
                problems.append(f"sentence_vectors.npy has shape {tuple(sentences.vectors.shape)}, expected ({ns}, {dim})")
            if ns and (int(sentences.reply.max()) >= len(replies) or int(sentences.chunk.max()) >= len(chunks)
                       or min(int(sentences.reply.min()), int(sentences.chunk.min())) < 0):
                problems.append("sentences.npz points at replies or chunks the version does not have")
        elif manifest.get("sentences"):
            problems.append(f"sentences.npz is missing; the manifest records {manifest['sentences']} sentences")
        if commitments is not None and "commitments" in manifest and len(commitments) != manifest["commitments"]:
            problems.append(f"commitments.jsonl holds {len(commitments)} commitments, the manifest records "
                            f"{manifest['commitments']}")
        orphans = {c.reply_id for c in chunks} - set(replies)
        if orphans:
            problems.append(f"{len(orphans)} chunk(s) name replies that are not in replies.jsonl (e.g. {sorted(orphans)[0]!r})")
        if problems:
            raise self._damaged(v, "; ".join(problems))
        return LoadedIndex(v.name, manifest, replies, chunks, vectors, dense, bm25, sentences, commitments)

    # -- writing -----------------------------------------------------------
    def _write_error(self, e: OSError) -> IndexWriteError:
        return IndexWriteError(f"cannot write the index at {self.root}: {_why(e)}; the live version is unchanged — "
                               f"free some disk space or make the folder writable, then run the command again")

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time across processes (flock); re-entrant within this IndexStore."""
        if self._lock_depth:
            self._lock_depth += 1
            try:
                yield
            finally:
                self._lock_depth -= 1
            return
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lock = open(self.root / ".write.lock", "a")
        except OSError as e:
            raise self._write_error(e) from e
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._lock_depth = 1
            try:
                yield
            finally:
                self._lock_depth = 0
                fcntl.flock(lock, fcntl.LOCK_UN)

    def write(self, manifest: dict, replies: list[Reply], chunks: list[Chunk], vectors: np.ndarray,
              dense: DenseIndex, bm25: BM25Index, sentences: SentenceTable | None = None,
              commitments: list[Commitment] | None = None) -> Path:
        """Write a complete new version beside the live one, then swap CURRENT to it."""
        with self.write_lock():
            return self._write(manifest, replies, chunks, vectors, dense, bm25, sentences, commitments)

    def _write(self, manifest: dict, replies: list[Reply], chunks: list[Chunk], vectors: np.ndarray,
               dense: DenseIndex, bm25: BM25Index, sentences: SentenceTable | None,
               commitments: list[Commitment] | None) -> Path:
        tmp = self.root / f".build-{secrets.token_hex(4)}"
        try:
            tmp.mkdir()
        except OSError as e:
            raise self._write_error(e) from e
        try:
            with open(tmp / "replies.jsonl", "w", encoding="utf-8") as f:
                for r in replies:
                    f.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
            with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
                for c in chunks:
                    f.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
            np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
            dense.save(tmp / "dense.faiss")
            bm25.save(tmp / "bm25")
            if sentences is not None:
                sentences.save(tmp)
            if commitments is not None:
                _write_commitments(tmp, commitments)
            files: dict[str, dict] = {}
            for p in sorted(tmp.rglob("*")):
                if p.is_file():
                    with open(p, "rb") as fh:
                        os.fsync(fh.fileno())
                    files[p.relative_to(tmp).as_posix()] = {"sha256": file_sha256(p), "bytes": p.stat().st_size}
            manifest = {**manifest, "format": FORMAT_VERSION, "files": files}
            with open(tmp / "manifest.json", "w", encoding="utf-8") as f:
                f.write(json.dumps(manifest, ensure_ascii=False, indent=1))
                f.flush()
                os.fsync(f.fileno())
            for d in sorted({p.parent for p in tmp.rglob("*")} | {tmp}):
                fsync_dir(d)
            name = f"v-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
            final = self.root / name
            os.rename(tmp, final)
            fsync_dir(self.root)
        except BaseException as e:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(e, OSError):
                raise self._write_error(e) from e
            raise
        try:
            previous = self.current_version()
        except DafuError:
            previous = None
        try:
            self._replace_pointer("CURRENT", name)
        except BaseException as e:
            shutil.rmtree(final, ignore_errors=True)
            if isinstance(e, OSError):
                raise self._write_error(e) from e
            raise
        if previous is not None and previous.name != name:
            try:
                self._replace_pointer("PREVIOUS", previous.name)
            except OSError:
                pass  # only gc reads it; at worst the previous version is collected early
        self.gc()
        return final

    def _replace_pointer(self, which: str, name: str) -> None:
        tmp = self.root / f".{which}.{secrets.token_hex(4)}"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(name)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.root / which)
            fsync_dir(self.root)
        finally:
            if tmp.exists():
                tmp.unlink(missing_ok=True)

    def gc(self) -> None:
        """Keep the live version and the one live before it; remove other versions and leftovers.

        With CURRENT damaged nothing is removed (the versions may be what a repair needs). Leftovers
        (.build-*, .CURRENT.*, .PREVIOUS.*) are removed at once while this store holds the write lock
        (no other writer can be using them), else only once they are an hour old.
        """
        try:
            live = self.current_version()
        except DafuError:
            return
        keep = {live.name} if live else set()
        try:
            prev = (self.root / "PREVIOUS").read_text("utf-8").strip()
            if prev:
                keep.add(prev)
        except (OSError, UnicodeDecodeError):
            pass
        for p in self.versions():
            if p.name not in keep:
                shutil.rmtree(p, ignore_errors=True)
        now = time.time()
        for pattern in (".build-*", ".CURRENT.*", ".PREVIOUS.*"):
            for p in self.root.glob(pattern):
                try:
                    old = now - p.stat().st_mtime > STALE_SECONDS
                except OSError:
                    continue
                if self._lock_depth or old:
                    if p.is_dir():
                        shutil.rmtree(p, ignore_errors=True)
                    else:
                        p.unlink(missing_ok=True)

    def size_on_disk(self) -> int:
        v = self._require()
        return sum(p.stat().st_size for p in v.rglob("*") if p.is_file())


def _load_commitments(v: Path) -> list[Commitment] | None:
    """commitments.jsonl of a version; None for versions written before commitments were stored."""
    path = v / "commitments.jsonl"
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as f:
        return [Commitment.from_dict(json.loads(line)) for line in f if line.strip()]


def _write_commitments(folder: Path, commitments: list[Commitment]) -> None:
    with open(folder / "commitments.jsonl", "w", encoding="utf-8") as f:
        for c in commitments:
            f.write(json.dumps(c.to_dict(), ensure_ascii=False) + "\n")
