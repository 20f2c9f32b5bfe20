"""The Milvus backend: replies, chunks and sentences in Milvus collections, for indexes past one machine.

Chosen with ``DAFU_BACKEND=milvus`` and ``DAFU_MILVUS_URI``: a file path (``milvus.db``) runs embedded
milvus-lite in this process (tests, CI, a laptop); an ``http(s)://`` URL is a Milvus standalone or
distributed cluster (``DAFU_MILVUS_TOKEN`` for its credentials). Extra ``[milvus]``.

What lives where:

- ``<prefix>_g<N>_chunks``: one row per chunk, primary key = its position. Dense vector (``vec``),
  the chunk's text with Milvus's own BM25 function over a jieba analyzer (``sparse``), the chunk
  record, dafu's tokens (word coverage), and the fields filters read (year, date, departments,
  proposer, number, district) — filters become Milvus expressions (`filter_expression`).
- ``<prefix>_g<N>_replies``: one row per reply (position, id, fields, the record compressed, its
  chunk and sentence ranges); ``<prefix>_g<N>_sentences``: the sentence table with vectors;
  ``<prefix>_g<N>_terms``: document frequency of each word (word coverage needs the IDF).
- ``<prefix>_meta``: which generation N is live, the model, counters. A build writes a new
  generation and then points the meta row at it (readers switch atomically, the previous
  generation is dropped after the next build); additions and removals change the live generation
  in place (rows inserted before the reply row that names them, removed after it).

The reader (`MilvusIndex`) has the interface of index.store.LoadedIndex that retrieval uses; it
keeps nothing per chunk in memory: per question it searches (dense, BM25, or both in one
`hybrid_search`) and fetches what the candidate replies need (scores, sentence vectors, records)
in a few batched requests (`prefetch*`), through small LRU caches.
"""
from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import re
import zlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from threading import Lock
from typing import Any, Iterable, Iterator

import logging

import numpy as np

from index.departments import department_table, same_place
from index.errors import DafuError, IndexNotFoundError, UnknownReplyError
from index.facets import ReplyMeta
from index.records import Chunk, Reply

RECORD_PARTS = 4  # a reply's compressed record is split over this many 64 KB fields
VARCHAR_MAX = 65535
_DIGITS = re.compile(r"\d+")


def _require_pymilvus():
    try:
        import pymilvus
    except ImportError as e:
        raise DafuError("DAFU_BACKEND=milvus needs the extra [milvus]: pip install 'dafu[milvus]' "
                        "(pymilvus, and milvus-lite for a file DAFU_MILVUS_URI)") from e

    for name in ("pymilvus", "pymilvus.client.iterator.query_iterator"):
        logging.getLogger(name).setLevel(logging.ERROR)  # milvus-lite has no server timestamps: a warning per scan
    return pymilvus


def is_remote(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "tcp://", "grpc://"))


def term_key(term: str) -> int:
    """A stable 63-bit key for a word (primary key of the terms collection)."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest(), "little") >> 1


def pack_record(d: dict) -> list[str]:
    raw = base64.b64encode(zlib.compress(json.dumps(d, ensure_ascii=False).encode("utf-8"), 6)).decode("ascii")
    parts = [raw[i: i + VARCHAR_MAX] for i in range(0, len(raw), VARCHAR_MAX)] or [""]
    if len(parts) > RECORD_PARTS:
        raise DafuError(f"reply {d.get('id')!r} ({d.get('source')}) is too long for the Milvus backend "
                        f"({len(raw)} bytes compressed, at most {RECORD_PARTS * VARCHAR_MAX}); split the file")
    return parts + [""] * (RECORD_PARTS - len(parts))


def unpack_record(row: dict) -> dict:
    raw = "".join(row.get(f"record{i}", "") for i in range(RECORD_PARTS))
    return json.loads(zlib.decompress(base64.b64decode(raw)).decode("utf-8"))


def _lit(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _date_int(d: str) -> int:
    digits = (d or "")[:10].replace("-", "")
    return int(digits) if len(digits) == 8 and digits.isdigit() else 0


def involved(meta: ReplyMeta) -> list[str]:
    """Canonical departments a reply involves (lead, co-handling, signing unit), as filters see them."""
    table = department_table()
    names = {table.canonical(u) for u in meta.units}
    if meta.signer:
        names.add(table.canonical(meta.signer))
    return sorted(n for n in names if n)


def filter_expression(filters, departments: Iterable[str] = (), places: Iterable[str] = ()) -> str | None:
    """A Milvus boolean expression selecting the chunks whose reply passes `filters`
    (service.filters.Filters); the same replies as Filters.matches (tests/index/test_milvus.py).
    `departments` and `places`: the distinct names the index holds (a typed department the alias table
    does not know is matched against the letters' own names, a place in front against the places)."""
    if filters is None or filters.is_empty():
        return None
    from index.facets import dept_term

    table = department_table()
    parts = []
    if filters.year_from:
        parts.append(f"(year >= {int(filters.year_from)} and year > 0)")
    if filters.year_to:
        parts.append(f"(year <= {int(filters.year_to)} and year > 0)")
    if filters.date_from:
        parts.append(f"(date >= {_date_int(filters.date_from)} and date > 0)")
    if filters.date_to:
        parts.append(f"(date <= {_date_int(filters.date_to)} and date > 0)")
    if filters.departments:
        alts = []
        for raw in filters.departments:
            if not raw or not raw.strip():
                continue
            t = dept_term(raw)
            names = sorted(t.names)
            cond = f"array_contains_any(departments, [{', '.join(map(_lit, names))}])" if names else "pk < 0"
            if t.rest:  # the letters' own names, for replies the table's names did not hit
                canon = table.canonical(t.rest)
                own = sorted(n for n in departments if n not in table.aliases and
                             (n == canon or n.startswith(t.rest) or (len(t.rest) >= 2 and t.rest in n)))
                if own:
                    cond = f"({cond} or array_contains_any(departments, [{', '.join(map(_lit, own))}]))"
            if t.place:
                here = sorted(p for p in places if same_place(t.place, p))
                cond = f"({cond} and place in [{', '.join(map(_lit, here))}])" if here else "pk < 0"
            alts.append(cond)
        parts.append("(" + " or ".join(alts or ["pk < 0"]) + ")")
    if filters.proposer:
        needle = filters.proposer.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        parts.append(f"proposer like {_lit('%' + needle + '%')}")
    if filters.number:
        want = filters.number.strip()
        groups = _DIGITS.findall(want)
        alt = [f"number == {_lit(want)}"]
        if len(groups) == 1:
            alt.append(f"array_contains(digits, {_lit(groups[0].lstrip('0'))})")
        parts.append("(" + " or ".join(alt) + ")")
    return " and ".join(parts)


class _LRU:
    def __init__(self, size: int) -> None:
        self.size, self._d, self._lock = size, OrderedDict(), Lock()

    def get(self, key):
        with self._lock:
            v = self._d.get(key)
            if v is not None:
                self._d.move_to_end(key)
            return v

    def put(self, key, value) -> None:
        with self._lock:
            self._d[key] = value
            self._d.move_to_end(key)
            while len(self._d) > self.size:
                self._d.popitem(last=False)

    def missing(self, keys: Iterable) -> list:
        with self._lock:
            return [k for k in dict.fromkeys(keys) if k not in self._d]


# -- the store: connection, generations, schema ----------------------------------------------------------
class _Version:
    def __init__(self, name: str) -> None:
        self.name = name


class MilvusStore:
    """The Milvus side of an index (what IndexStore is for the FAISS backend)."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.uri = settings.milvus_uri or str(Path(settings.home) / "milvus.db")
        self.prefix = re.sub(r"\W", "_", settings.milvus_prefix)
        self._client = None
        self._lock = Lock()
        self.root = Path(self.uri) if not is_remote(self.uri) else Path(settings.home)

    @property
    def client(self):
        if self._client is None:
            with self._lock:
                if self._client is None:
                    pm = _require_pymilvus()
                    kw: dict[str, Any] = {"uri": self.uri}
                    token = self.settings.milvus_token.get_secret_value() if self.settings.milvus_token else None
                    if token:
                        kw["token"] = token
                    if not is_remote(self.uri):
                        Path(self.uri).parent.mkdir(parents=True, exist_ok=True)
                        # milvus-lite's in-process server lacks AllocTimestamp, which pymilvus calls while
                        # waiting for an index; the call fails harmlessly but its server logs an error each time
                        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
                    try:
                        self._client = pm.MilvusClient(**kw)
                    except Exception as e:
                        raise DafuError(f"cannot connect to Milvus at {self.uri} ({type(e).__name__}: {e}); check "
                                        f"DAFU_MILVUS_URI (a file path for milvus-lite, http://host:19530 for a server)") from e
        return self._client

    def names(self, gen: int) -> dict[str, str]:
        return {k: f"{self.prefix}_g{gen}_{k}" for k in ("chunks", "replies", "sentences", "terms")}

    @property
    def meta_name(self) -> str:
        return f"{self.prefix}_meta"

    # -- state -----------------------------------------------------------------------------------------
    def read_state(self) -> dict | None:
        """The meta row: live generation, model, counters (None when no index was ever built here)."""
        c = self.client
        if not c.has_collection(self.meta_name):
            return None
        c.load_collection(self.meta_name)
        rows = c.get(self.meta_name, ids=[0], output_fields=["value"])
        return json.loads(rows[0]["value"]) if rows else None

    def set_state(self, state: dict) -> None:
        c = self.client
        if not c.has_collection(self.meta_name):
            pm = _require_pymilvus()
            s = c.create_schema(auto_id=False, enable_dynamic_field=False)
            s.add_field("pk", pm.DataType.INT64, is_primary=True)
            s.add_field("value", pm.DataType.VARCHAR, max_length=VARCHAR_MAX)
            s.add_field("dummy", pm.DataType.FLOAT_VECTOR, dim=2)
            ip = c.prepare_index_params()
            ip.add_index(field_name="dummy", index_type="AUTOINDEX", metric_type="L2")
            c.create_collection(self.meta_name, schema=s, index_params=ip)
        c.upsert(self.meta_name, [{"pk": 0, "value": json.dumps(state, ensure_ascii=False), "dummy": [0.0, 0.0]}])
        c.load_collection(self.meta_name)

    def state(self) -> tuple[str, str]:
        """("absent" | "ok" | "unreadable", detail), like IndexStore.state (a Milvus that does not answer
        is "unreadable": the index is not taken for an empty one)."""
        try:
            st = self.read_state()
        except Exception as e:  # noqa: BLE001 - connection refused, lite file locked …
            return "unreadable", f"Milvus at {self.uri} cannot be read: {type(e).__name__}: {' '.join(str(e).split())[:200]}"
        if not st or not st.get("generation"):
            return "absent", ""
        return "ok", f"milvus-g{st['generation']}-w{st.get('writes', 0)}"

    def is_absent(self) -> bool:
        return self.state()[0] == "absent"

    def exists(self) -> bool:
        return self.state()[0] == "ok"

    def current_version(self) -> _Version | None:
        st = self.read_state()
        if not st or not st.get("generation"):
            return None
        return _Version(f"milvus-g{st['generation']}-w{st.get('writes', 0)}")

    def manifest(self) -> dict:
        st = self.read_state()
        if not st:
            raise IndexNotFoundError(f"no index in Milvus at {self.uri} (prefix {self.prefix}); build one with "
                                     f"`DAFU_BACKEND=milvus dafu index build PATH…`")
        return {k: v for k, v in st.items() if not k.startswith("next_") and k not in ("departments", "places")} | {
            "backend": "milvus", "uri": self.uri}

    def load(self, nprobe: int | None = None, lazy: bool = False) -> "MilvusIndex":
        st = self.read_state()
        if not st or not st.get("generation"):
            raise IndexNotFoundError(f"no index in Milvus at {self.uri} (prefix {self.prefix}); build one with "
                                     f"`DAFU_BACKEND=milvus dafu index build PATH…`")
        names = self.names(st["generation"])
        for n in names.values():
            self.client.load_collection(n)
        return MilvusIndex(self, st, names)

    @contextmanager
    def write_lock(self) -> Iterator[None]:
        """One writer at a time (a lock file beside milvus-lite's file, or in DAFU_HOME for a server:
        writers on several machines must be serialized by the operator)."""
        lock_dir = self.root.parent if not is_remote(self.uri) else self.root
        lock_dir.mkdir(parents=True, exist_ok=True)
        with open(lock_dir / f".{self.prefix}.milvus.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def size_on_disk(self) -> int:
        if is_remote(self.uri):
            return 0
        p = Path(self.uri)
        if p.is_file():
            return p.stat().st_size
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.exists() else 0

    # -- schema ----------------------------------------------------------------------------------------
    def create_generation(self, gen: int, dim: int) -> dict[str, str]:
        pm = _require_pymilvus()
        D = pm.DataType
        c = self.client
        names = self.names(gen)
        for n in names.values():
            if c.has_collection(n):
                c.drop_collection(n)
        index_type = self.settings.milvus_index_type

        s = c.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("pk", D.INT64, is_primary=True)
        s.add_field("reply_pos", D.INT64)
        s.add_field("text", D.VARCHAR, max_length=VARCHAR_MAX, enable_analyzer=True, analyzer_params={"tokenizer": "jieba"})
        s.add_field("sparse", D.SPARSE_FLOAT_VECTOR)
        s.add_field("vec", D.FLOAT_VECTOR, dim=dim)
        s.add_field("record", D.VARCHAR, max_length=VARCHAR_MAX)
        s.add_field("tokens", D.VARCHAR, max_length=VARCHAR_MAX)
        s.add_field("evidence", D.BOOL)
        s.add_field("year", D.INT64)
        s.add_field("date", D.INT64)
        s.add_field("departments", D.ARRAY, element_type=D.VARCHAR, max_capacity=64, max_length=256)
        s.add_field("proposer", D.VARCHAR, max_length=1024)
        s.add_field("number", D.VARCHAR, max_length=256)
        s.add_field("digits", D.ARRAY, element_type=D.VARCHAR, max_capacity=16, max_length=32)
        s.add_field("place", D.VARCHAR, max_length=128)
        s.add_function(pm.Function(name="bm25", function_type=pm.FunctionType.BM25, input_field_names=["text"],
                                   output_field_names=["sparse"]))
        ip = c.prepare_index_params()
        ip.add_index(field_name="vec", index_type=index_type, metric_type="IP")
        ip.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        c.create_collection(names["chunks"], schema=s, index_params=ip)

        s = c.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("pk", D.INT64, is_primary=True)
        s.add_field("reply_id", D.VARCHAR, max_length=512)
        for i in range(RECORD_PARTS):
            s.add_field(f"record{i}", D.VARCHAR, max_length=VARCHAR_MAX)
        s.add_field("meta", D.VARCHAR, max_length=VARCHAR_MAX)
        s.add_field("proposer", D.VARCHAR, max_length=1024)
        s.add_field("last_number", D.VARCHAR, max_length=64)  # the number a reply is known by (第28号)
        for f in ("chunk_lo", "chunk_hi", "sent_lo", "sent_hi", "year", "date"):
            s.add_field(f, D.INT64)
        s.add_field("dummy", D.FLOAT_VECTOR, dim=2)
        ip = c.prepare_index_params()
        ip.add_index(field_name="dummy", index_type="AUTOINDEX", metric_type="L2")
        c.create_collection(names["replies"], schema=s, index_params=ip)

        s = c.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("pk", D.INT64, is_primary=True)
        for f in ("reply_pos", "start", "end", "label", "chunk"):
            s.add_field(f, D.INT64)
        s.add_field("vec", D.FLOAT_VECTOR, dim=dim)
        ip = c.prepare_index_params()
        ip.add_index(field_name="vec", index_type=index_type, metric_type="IP")
        c.create_collection(names["sentences"], schema=s, index_params=ip)

        s = c.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("pk", D.INT64, is_primary=True)
        s.add_field("term", D.VARCHAR, max_length=1024)
        s.add_field("df", D.INT64)
        s.add_field("dummy", D.FLOAT_VECTOR, dim=2)
        ip = c.prepare_index_params()
        ip.add_index(field_name="dummy", index_type="AUTOINDEX", metric_type="L2")
        c.create_collection(names["terms"], schema=s, index_params=ip)
        for n in names.values():
            c.load_collection(n)
        return names

    def drop_generation(self, gen: int) -> None:
        c = self.client
        for n in self.names(gen).values():
            if c.has_collection(n):
                c.drop_collection(n)

    def query_all(self, collection: str, fields: list[str], upto: int, batch: int = 2000) -> Iterator[dict]:
        """Every row with primary key below `upto`, in key ranges (positions are allocated in order)."""
        for a in range(0, int(upto), batch):
            yield from sorted(self.client.query(collection, filter=f"pk >= {a} and pk < {a + batch}", output_fields=fields,
                                                limit=batch), key=lambda r: int(r["pk"]))


# -- the reader -------------------------------------------------------------------------------------------
class _Lookup:
    """Array-like over positions whose values come from a cache filled by `fetch(missing positions)`."""

    def __init__(self, cache: _LRU, fetch, field: str, default, dtype) -> None:
        self._cache, self._fetch, self._field, self._default, self._dtype = cache, fetch, field, default, dtype

    def _one(self, key):
        row = self._cache.get(int(key))
        if row is None:
            self._fetch([int(key)])
            row = self._cache.get(int(key))
        return self._default if row is None else row[self._field]

    def __getitem__(self, idx):
        if isinstance(idx, (int, np.integer)):
            return self._one(idx)
        keys = np.asarray(idx, np.int64)
        missing = self._cache.missing(keys.tolist())
        if missing:
            self._fetch(missing)
        return np.array([self._one(k) for k in keys.tolist()], dtype=self._dtype)


class MilvusIndex:
    """What retrieval reads (the interface of index.store.LoadedIndex), served from Milvus."""

    def __init__(self, store: MilvusStore, state: dict, names: dict[str, str]) -> None:
        self.store, self.state, self.names = store, state, names
        self.client = store.client
        self.version = f"milvus-g{state['generation']}-w{state.get('writes', 0)}"
        self.manifest = store.manifest()
        self.n_positions = int(state.get("chunks", 0))
        self._chunk_cache = _LRU(65536)
        self._reply_cache = _LRU(16384)
        self._record_cache = _LRU(2048)
        self._sent_cache = _LRU(65536)
        self._reply_of = _LRU(262144)  # chunk position → reply position, from search hits
        self._pos_of_id = _LRU(65536)  # reply id → position, from the reply rows fetched
        self.evidence = _Lookup(self._chunk_cache, self._fetch_chunks, "evidence", True, bool)
        self.chunk_reply = _ChunkReply(self)
        self.dense = _MilvusDense(self)
        self.bm25 = _MilvusBM25(self)
        self.sentences = _MilvusSentences(self)
        self.chunks = _MilvusChunks(self)
        self.replies = _MilvusReplies(self)
        self.facets = _MilvusFacets(self)
        self.reply_chunks = _MilvusReplyChunks(self)
        self.vectors = _MilvusVectors(self)
        self._ids: dict[str, int] | None = None
        self.commitments = None  # not stored in Milvus: `dafu track` extracts them from the replies

    # -- fetching ----------------------------------------------------------------------------------------
    def _fetch_chunks(self, positions: list[int], with_vectors: bool = False) -> None:
        fields = ["pk", "reply_pos", "evidence", "record", "tokens"] + (["vec"] if with_vectors else [])
        for i in range(0, len(positions), 1000):
            part = [int(p) for p in positions[i: i + 1000]]
            for row in self.client.get(self.names["chunks"], ids=part, output_fields=fields):
                self._chunk_cache.put(int(row["pk"]), row)

    def _fetch_replies(self, positions: list[int]) -> None:
        missing = [p for p in self._reply_cache.missing(positions) if p >= 0]
        fields = ["pk", "reply_id", "meta", "chunk_lo", "chunk_hi", "sent_lo", "sent_hi"]
        for i in range(0, len(missing), 1000):
            for row in self.client.get(self.names["replies"], ids=missing[i: i + 1000], output_fields=fields):
                row = dict(row)
                row["meta_obj"] = ReplyMeta.from_list(json.loads(row["meta"]))
                self._reply_cache.put(int(row["pk"]), row)
                self._pos_of_id.put(row["reply_id"], int(row["pk"]))

    def _reply_row(self, pos: int) -> dict:
        row = self._reply_cache.get(int(pos))
        if row is None:
            self._fetch_replies([int(pos)])
            row = self._reply_cache.get(int(pos))
        if row is None:
            raise UnknownReplyError(f"#{pos}")
        return row

    def prefetch(self, reply_positions: Sequence[int]) -> None:
        """The rows of the candidate replies (fields, chunk ranges) in one request."""
        self._fetch_replies([int(p) for p in reply_positions])

    def prefetch_chunks(self, reply_positions: Sequence[int]) -> None:
        """Records, tokens and flags of every chunk of these replies, in one request."""
        self.prefetch(reply_positions)
        pos = [p for r in reply_positions for p in range(*self._range(int(r)))]
        missing = self._chunk_cache.missing(pos)
        if missing:
            self._fetch_chunks(missing)

    def prefetch_sentences(self, reply_positions: Sequence[int]) -> None:
        self.prefetch(reply_positions)
        rows = [r for rp in reply_positions for r in range(*self._sent_range(int(rp)))]
        missing = self._sent_cache.missing(rows)
        fields = ["pk", "reply_pos", "start", "end", "label", "chunk", "vec"]
        for i in range(0, len(missing), 1000):
            for row in self.client.get(self.names["sentences"], ids=missing[i: i + 1000], output_fields=fields):
                row = dict(row)
                row["vec"] = np.asarray(row["vec"], np.float32)
                self._sent_cache.put(int(row["pk"]), row)

    def _range(self, pos: int) -> tuple[int, int]:
        r = self._reply_row(pos)
        return int(r["chunk_lo"]), int(r["chunk_hi"])

    def _sent_range(self, pos: int) -> tuple[int, int]:
        r = self._reply_row(pos)
        return int(r["sent_lo"]), int(r["sent_hi"])

    # -- LoadedIndex interface ----------------------------------------------------------------------------
    @property
    def model(self) -> str:
        return self.manifest["model"]

    @property
    def chunk_count(self) -> int:
        return int(self.state.get("chunks", 0))

    @property
    def reply_pos(self) -> dict[str, int]:
        if self._ids is None:
            self._ids = {r["reply_id"]: int(r["pk"]) for r in self.store.query_all(self.names["replies"], ["pk", "reply_id"],
                                                                                    self.state.get("next_reply", 0))}
        return self._ids

    @property
    def reply_ids(self) -> "_ReplyIds":
        return _ReplyIds(self)

    def reply_at(self, pos: int) -> Reply:
        pos = int(pos)
        r = self._record_cache.get(pos)
        if r is None:
            rows = self.client.get(self.names["replies"], ids=[pos], output_fields=[f"record{i}" for i in range(RECORD_PARTS)])
            if not rows:
                raise UnknownReplyError(f"#{pos}")
            r = Reply.from_dict(unpack_record(rows[0]))
            self._record_cache.put(pos, r)
        return r

    def reply(self, reply_id: str) -> Reply:
        rows = self.client.query(self.names["replies"], filter=f"reply_id == {_lit(reply_id)}", output_fields=["pk"])
        if not rows:
            raise UnknownReplyError(reply_id)
        return self.reply_at(int(rows[0]["pk"]))

    def chunk_bounds(self, reply_positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and end chunk position of each reply (chunks of a reply are contiguous positions)."""
        reps = [int(r) for r in np.atleast_1d(reply_positions)]
        self.prefetch(reps)
        b = [self._range(r) for r in reps]
        return np.array([x[0] for x in b], np.int64), np.array([x[1] for x in b], np.int64)

    def chunks_of_pos(self, pos: int) -> np.ndarray:
        lo, hi = self._range(int(pos))
        return np.arange(lo, hi, dtype=np.int64)

    def chunks_of(self, reply_id: str) -> list[Chunk]:
        return [self.chunks[i] for i in self.reply_chunks.get(reply_id, np.zeros(0, np.int64))]

    def replies_named(self, numbers, proposers, allowed=None) -> list[int]:
        """Replies named by proposal number or proposer (one query on the replies collection)."""
        alts = []
        if numbers:
            alts.append("last_number in [" + ", ".join(_lit(str(n).lstrip("0")) for n in numbers) + "]")
        for name in proposers:
            if name:
                esc = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                alts.append(f"proposer like {_lit('%' + esc + '%')}")
        if not alts:
            return []
        rows = self.client.query(self.names["replies"], filter=" or ".join(alts), output_fields=["pk"], limit=1000)
        out = sorted({int(r["pk"]) for r in rows})
        if isinstance(allowed, _Expr) and out:
            rows = self.client.query(self.names["chunks"], filter=f"reply_pos in [{', '.join(map(str, out))}] and ({allowed.expr})",
                                     output_fields=["reply_pos"], limit=16384)
            ok = {int(r["reply_pos"]) for r in rows}
            out = [p for p in out if p in ok]
        return out

    def chunk_mask(self, filters):
        expr = filter_expression(filters, self.state.get("departments", ()), self.state.get("places", ()))
        return None if expr is None else _Expr(expr)

    def reply_stubs(self) -> list["_Stub"]:
        out = []
        for row in self.store.query_all(self.names["replies"], ["pk", "reply_id", "meta"], self.state.get("next_reply", 0)):
            out.append(_Stub(self, int(row["pk"]), row["reply_id"], ReplyMeta.from_list(json.loads(row["meta"]))))
        return out

    def live_metas(self) -> list[ReplyMeta]:
        return [ReplyMeta.from_list(json.loads(r["meta"]))
                for r in self.store.query_all(self.names["replies"], ["pk", "meta"], self.state.get("next_reply", 0))]

    def dense_scores_at(self, qv: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Cosine of the question with the given chunks (computed by Milvus)."""
        return self.dense.scores_at(qv, positions)

    def size_on_disk(self) -> int:
        return self.store.size_on_disk()


class _ChunkReply:
    """chunk_reply[positions]: the reply of each chunk (known from search hits, else fetched)."""

    def __init__(self, index: "MilvusIndex") -> None:
        self._ix = index

    def _get(self, p: int) -> int | None:
        v = self._ix._reply_of.get(p)
        if v is None:
            row = self._ix._chunk_cache.get(p)
            v = None if row is None else int(row["reply_pos"])
        return v

    def __getitem__(self, idx):
        keys = [int(k) for k in np.atleast_1d(np.asarray(idx, np.int64))]
        need = [k for k in keys if self._get(k) is None]
        if need:
            self._ix._fetch_chunks(need)
        out = np.array([self._get(k) if self._get(k) is not None else -1 for k in keys], np.int64)
        return out if np.ndim(idx) else int(out[0])


class _ReplyIds:
    def __init__(self, index: MilvusIndex) -> None:
        self._ix = index

    def __getitem__(self, pos: int) -> str:
        return self._ix._reply_row(int(pos))["reply_id"]

    def __len__(self) -> int:
        return int(self._ix.state.get("replies", 0))


class _Stub:
    """A reply's fields without its record (decoded on first use of anything else)."""

    def __init__(self, index: MilvusIndex, pos: int, reply_id: str, meta: ReplyMeta) -> None:
        self._ix, self._pos, self.id, self._m = index, pos, reply_id, meta
        self.signer, self.proposer, self.number = meta.signer, meta.proposer, meta.number
        self.lead_unit, self.kind = meta.lead_unit, meta.kind
        self._r = None

    def __getattr__(self, name):
        if name.startswith("__") or name in ("_r", "_ix", "_pos"):
            raise AttributeError(name)
        if self._r is None:
            self._r = self._ix.reply_at(self._pos)
        return getattr(self._r, name)


class _Expr:
    """A filter as a Milvus expression. Indexed by chunk positions it says True: only chunks of replies
    found under the expression are ever asked for."""

    def __init__(self, expr: str) -> None:
        self.expr = expr

    def __getitem__(self, positions):
        return np.ones(len(np.atleast_1d(positions)), bool) if np.ndim(positions) else True


def _hid(h) -> int:
    """A hit's primary key (pymilvus names it after the primary field, "pk" here)."""
    try:
        return int(h["pk"])
    except KeyError:
        return int(h["id"])


def _scores_of(hits, negate_bm25: bool = False) -> tuple[np.ndarray, np.ndarray]:
    ids = np.array([_hid(h) for h in hits], np.int64)
    sc = np.array([float(h["distance"]) for h in hits], np.float32)
    if negate_bm25:
        sc = np.abs(sc)  # milvus-lite reports BM25 as a negative distance, a server as a positive score
    return sc, ids


class _MilvusDense:
    kind = "milvus"

    def __init__(self, index: MilvusIndex) -> None:
        self._ix = index

    @property
    def size(self) -> int:
        return self._ix.n_positions

    def describe(self) -> list[dict]:
        return [{"kind": "milvus", "index_type": self._ix.store.settings.milvus_index_type, "uri": self._ix.store.uri}]

    def search(self, query: np.ndarray, k: int, allowed=None) -> tuple[np.ndarray, np.ndarray]:
        expr = allowed.expr if isinstance(allowed, _Expr) else ""
        res = self._ix.client.search(self._ix.names["chunks"], data=[np.asarray(query, np.float32).tolist()], anns_field="vec",
                                     limit=int(k), filter=expr, output_fields=["reply_pos"],
                                     search_params={"metric_type": "IP"})
        hits = res[0] if res else []
        for h in hits:
            self._ix._reply_of.put(_hid(h), int(h["entity"]["reply_pos"]))
        sc, ids = _scores_of(hits)
        order = np.lexsort((ids, -sc))
        return sc[order], ids[order]

    def scores_at(self, query: np.ndarray, positions: np.ndarray) -> np.ndarray:
        positions = np.asarray(positions, np.int64)
        if not len(positions):
            return np.zeros(0, np.float32)
        uniq = np.unique(positions)
        res = self._ix.client.search(self._ix.names["chunks"], data=[np.asarray(query, np.float32).tolist()], anns_field="vec",
                                     limit=int(len(uniq)), filter=f"pk in [{', '.join(map(str, uniq.tolist()))}]",
                                     search_params={"metric_type": "IP"})
        got = {_hid(h): float(h["distance"]) for h in (res[0] if res else [])}
        return np.array([got.get(int(p), 0.0) for p in positions], np.float32)


class _MilvusBM25:
    """Milvus's own BM25 (jieba analyzer over the chunk text); dafu's words are sent as the query text."""

    def __init__(self, index: MilvusIndex) -> None:
        self._ix = index
        self._df = _LRU(65536)

    @property
    def size(self) -> int:
        return self._ix.n_positions

    def _text(self, tokens: Sequence[str]) -> str:
        return " ".join(tokens)

    def top_k(self, query_tokens: Sequence[str], k: int, allowed=None) -> tuple[np.ndarray, np.ndarray]:
        if not query_tokens or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        expr = allowed.expr if isinstance(allowed, _Expr) else ""
        res = self._ix.client.search(self._ix.names["chunks"], data=[self._text(query_tokens)], anns_field="sparse",
                                     limit=int(k), filter=expr, output_fields=["reply_pos"],
                                     search_params={"metric_type": "BM25"})
        hits = res[0] if res else []
        for h in hits:
            self._ix._reply_of.put(_hid(h), int(h["entity"]["reply_pos"]))
        sc, ids = _scores_of(hits, negate_bm25=True)
        keep = sc > 0
        sc, ids = sc[keep], ids[keep]
        order = np.lexsort((ids, -sc))
        return ids[order], sc[order]

    def scores_at(self, query_tokens: Sequence[str], positions: np.ndarray) -> np.ndarray:
        positions = np.asarray(positions, np.int64)
        if not len(positions) or not query_tokens:
            return np.zeros(len(positions), np.float32)
        uniq = np.unique(positions)
        res = self._ix.client.search(self._ix.names["chunks"], data=[self._text(query_tokens)], anns_field="sparse",
                                     limit=int(len(uniq)), filter=f"pk in [{', '.join(map(str, uniq.tolist()))}]",
                                     search_params={"metric_type": "BM25"})
        sc, ids = _scores_of(res[0] if res else [], negate_bm25=True)
        got = dict(zip(ids.tolist(), sc.tolist()))
        return np.array([got.get(int(p), 0.0) for p in positions], np.float32)

    # word coverage: document frequency from the terms collection, presence from the chunks' tokens
    def doc_freq(self, token: str) -> int:
        v = self._df.get(token)
        if v is None:
            rows = self._ix.client.get(self._ix.names["terms"], ids=[term_key(token)], output_fields=["df"])
            v = int(rows[0]["df"]) if rows else 0
            self._df.put(token, v)
        return v

    def postings(self, token: str) -> "_Word":
        return _Word(self._ix, (token,), self.doc_freq(token))

    docs_with = postings

    def intersect(self, a: "_Word", b: "_Word") -> "_Word":
        return _Word(self._ix, a.words + b.words, min(len(a), len(b)))


class _Word:
    """Chunks holding all of `words`: its size is the document frequency (for a compound, that of its
    rarest part); `any_in(positions)` reads those chunks' tokens."""

    def __init__(self, index: MilvusIndex, words: tuple[str, ...], df: int) -> None:
        self._ix, self.words, self._df = index, words, df

    def __len__(self) -> int:
        return self._df

    def contains(self, positions: np.ndarray) -> np.ndarray:
        pos = [int(p) for p in np.atleast_1d(positions)]
        if not self._df or not pos:
            return np.zeros(len(pos), bool)
        need = self._ix._chunk_cache.missing(pos)
        if need:
            self._ix._fetch_chunks(need)
        out = []
        for p in pos:
            toks = set(((self._ix._chunk_cache.get(p) or {}).get("tokens") or "").split(" "))
            out.append(all(w in toks for w in self.words))
        return np.array(out, bool)

    def any_in(self, positions: np.ndarray) -> bool:
        if not self._df:
            return False
        pos = [int(p) for p in np.atleast_1d(positions)]
        need = self._ix._chunk_cache.missing(pos)
        if need:
            self._ix._fetch_chunks(need)
        for p in pos:
            toks = set(((self._ix._chunk_cache.get(p) or {}).get("tokens") or "").split(" "))
            if all(w in toks for w in self.words):
                return True
        return False


class _MilvusSentences:
    """The sentence table of the candidate replies (fetched by prefetch_sentences)."""

    def __init__(self, index: MilvusIndex) -> None:
        self._ix = index
        get = lambda f, dt: _Lookup(index._sent_cache, self._fetch_rows, f, 0, dt)  # noqa: E731
        self.start, self.end, self.label, self.chunk = get("start", np.int64), get("end", np.int64), get("label", np.int64), get("chunk", np.int64)
        self.reply = get("reply_pos", np.int64)
        self.vectors = _SentVectors(self)

    def _fetch_rows(self, rows: list[int]) -> None:
        fields = ["pk", "reply_pos", "start", "end", "label", "chunk", "vec"]
        for i in range(0, len(rows), 1000):
            for row in self._ix.client.get(self._ix.names["sentences"], ids=rows[i: i + 1000], output_fields=fields):
                row = dict(row)
                row["vec"] = np.asarray(row["vec"], np.float32)
                self._ix._sent_cache.put(int(row["pk"]), row)

    def __len__(self) -> int:
        return int(self._ix.state.get("sentences", 0))

    def rows_of(self, reply_pos: int) -> slice:
        lo, hi = self._ix._sent_range(int(reply_pos))
        return slice(lo, hi)

    def label_of(self, row: int) -> str:
        from index.sentences import LABEL_NAMES

        return LABEL_NAMES[int(self.label[int(row)])]


class _SentVectors:
    def __init__(self, table: _MilvusSentences) -> None:
        self._t = table

    def __getitem__(self, sl) -> np.ndarray:
        rows = list(range(sl.start, sl.stop)) if isinstance(sl, slice) else [int(x) for x in np.atleast_1d(sl)]
        missing = self._t._ix._sent_cache.missing(rows)
        if missing:
            self._t._fetch_rows(missing)
        if not rows:
            return np.zeros((0, int(self._t._ix.manifest.get("dim", 0))), np.float32)
        return np.stack([self._t._ix._sent_cache.get(r)["vec"] for r in rows])


class _MilvusVectors:
    """Chunk vectors by position (fetched; the retriever prefers dense_scores_at)."""

    def __init__(self, index: MilvusIndex) -> None:
        self._ix = index

    def __len__(self) -> int:
        return self._ix.n_positions

    def __getitem__(self, idx) -> np.ndarray:
        pos = [int(p) for p in np.atleast_1d(idx)]
        need = [p for p in pos if "vec" not in (self._ix._chunk_cache.get(p) or {})]
        if need:
            self._ix._fetch_chunks(need, with_vectors=True)
        out = np.stack([np.asarray(self._ix._chunk_cache.get(p)["vec"], np.float32) for p in pos]) if pos else np.zeros((0, 0), np.float32)
        return out if np.ndim(idx) else out[0]


class _MilvusChunks(Sequence):
    def __init__(self, index: MilvusIndex) -> None:
        self._ix = index

    def __getitem__(self, i):
        i = int(i)
        row = self._ix._chunk_cache.get(i)
        if row is None:
            self._ix._fetch_chunks([i])
            row = self._ix._chunk_cache.get(i)
        if row is None:
            raise IndexError(i)
        c = row.get("_chunk")
        if c is None:
            c = row["_chunk"] = Chunk.from_dict(json.loads(row["record"]))
        return c

    def __len__(self) -> int:
        return self._ix.n_positions


class _MilvusReplies(Mapping):
    def __init__(self, index: MilvusIndex) -> None:
        self._ix = index

    def __getitem__(self, reply_id: str) -> Reply:
        pos = self._ix.reply_pos.get(reply_id)
        if pos is None:
            raise KeyError(reply_id)
        return self._ix.reply_at(pos)

    def at(self, pos: int) -> Reply:
        return self._ix.reply_at(pos)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ix.reply_pos)

    def __len__(self) -> int:
        return int(self._ix.state.get("replies", 0))

    def __contains__(self, reply_id: object) -> bool:
        return reply_id in self._ix.reply_pos


class _MilvusReplyChunks(Mapping):
    def __init__(self, index: MilvusIndex) -> None:
        self._ix = index

    def __getitem__(self, reply_id: str) -> np.ndarray:
        pos = self._ix._pos_of_id.get(reply_id)  # a candidate's: known without listing every reply
        if pos is None:
            pos = self._ix.reply_pos.get(reply_id)
        if pos is None:
            raise KeyError(reply_id)
        return self._ix.chunks_of_pos(pos)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ix.reply_pos)

    def __len__(self) -> int:
        return len(self._ix.reply_pos)


class _Metas:
    def __init__(self, index: MilvusIndex) -> None:
        self._ix = index

    def __getitem__(self, pos: int) -> ReplyMeta:
        return self._ix._reply_row(int(pos))["meta_obj"]


class _DeptMask:
    def __init__(self, index: MilvusIndex, names: set[str]) -> None:
        self._ix, self._names = index, names

    def __getitem__(self, pos) -> bool:
        return bool(self._names & set(involved(self._ix.facets.metas[int(pos)])))


class _MilvusFacets:
    """The per-reply fields the retriever reads, for the replies it asks about."""

    def __init__(self, index: MilvusIndex) -> None:
        self._ix = index
        self.metas = _Metas(index)

    def department_mask(self, names: Iterable[str]) -> _DeptMask:
        table = department_table()
        return _DeptMask(self._ix, {table.canonical(x) for x in names})
