"""The sentence table: every evidence sentence of every reply letter, with its own vector.

Chunks are what the first retrieval stage searches; sentences are what the second stage re-scores
(the best-matching sentence of a candidate reply, "max-sim") and what answers quote. Each sentence is
embedded once at index time with the heading it sits under, so re-scoring a few dozen candidate
replies at query time is a matrix product, not an encoder call.

Rows are grouped by reply in index order (the rows of one reply are contiguous), so the sentences of
a reply are one slice. Offsets index into ``Reply.text`` like everywhere else.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.records import Chunk, Reply

# which sentences get a row (and a vector): the reply's evidence and section headings, and the title
LABEL_CODES = {"title": 0, "heading": 1, "done": 2, "plan": 3}
LABEL_NAMES = {v: k for k, v in LABEL_CODES.items()}
MIN_CHARS = 4


@dataclass
class SentenceTable:
    reply: np.ndarray  # int32, position of the sentence's reply in LoadedIndex.reply_ids
    start: np.ndarray  # int32 offsets into Reply.text
    end: np.ndarray
    label: np.ndarray  # int8, LABEL_CODES
    chunk: np.ndarray  # int32, position of a chunk that holds the sentence
    vectors: np.ndarray  # float32 (n, dim), L2-normalised
    _slices: dict[int, tuple[int, int]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self._slices and len(self.reply):
            bounds = np.flatnonzero(np.diff(self.reply)) + 1
            starts = np.concatenate([[0], bounds])
            ends = np.concatenate([bounds, [len(self.reply)]])
            self._slices = {int(self.reply[s]): (int(s), int(e)) for s, e in zip(starts, ends)}

    def __len__(self) -> int:
        return int(len(self.reply))

    def rows_of(self, reply_pos: int) -> slice:
        s, e = self._slices.get(int(reply_pos), (0, 0))
        return slice(s, e)

    def label_of(self, row: int) -> str:
        return LABEL_NAMES[int(self.label[row])]

    def save(self, folder: Path) -> None:
        np.savez(folder / "sentences.npz", reply=self.reply, start=self.start, end=self.end, label=self.label,
                 chunk=self.chunk)
        np.save(folder / "sentence_vectors.npy", np.ascontiguousarray(self.vectors, dtype=np.float32))

    @classmethod
    def load(cls, folder: Path) -> "SentenceTable | None":
        """None for an index written before sentence vectors existed (re-scoring is then skipped)."""
        if not (folder / "sentences.npz").exists():
            return None
        z = np.load(folder / "sentences.npz")
        vectors = np.load(folder / "sentence_vectors.npy")
        return cls(z["reply"], z["start"], z["end"], z["label"], z["chunk"], vectors)


@dataclass
class SentenceRow:
    reply_id: str
    start: int
    end: int
    label: str
    chunk: int  # position in the chunk list


def sentence_rows(replies: list[Reply], chunks: list[Chunk]) -> list[SentenceRow]:
    """One row per distinct evidence/heading sentence of the reply letters and per title, in chunk order
    (chunks come grouped by reply, so the rows of a reply are contiguous)."""
    rows: list[SentenceRow] = []
    seen: set[tuple[str, int, int]] = set()
    for ci, c in enumerate(chunks):
        if c.part not in ("reply", "title"):
            continue
        for s in c.sentences:
            if s.label not in LABEL_CODES or s.end - s.start < MIN_CHARS:
                continue
            key = (c.reply_id, s.start, s.end)
            if key in seen:
                continue
            seen.add(key)
            rows.append(SentenceRow(c.reply_id, s.start, s.end, s.label, ci))
    return rows


def sentence_embed_text(row: SentenceRow, reply: Reply, chunk: Chunk) -> str:
    """The sentence with the heading it sits under (a bare '每餐补贴3元' says little without '老年助餐')."""
    text = reply.text[row.start:row.end].strip()
    if row.label == "title":
        return text
    head = chunk.heading_path[-1] if chunk.heading_path else ""
    if head and not text.startswith(head[:8]):
        return f"{head}：{text}"
    return text


def build_table(rows: list[SentenceRow], reply_pos: dict[str, int], vectors: np.ndarray) -> SentenceTable:
    n = len(rows)
    return SentenceTable(
        reply=np.fromiter((reply_pos[r.reply_id] for r in rows), dtype=np.int32, count=n),
        start=np.fromiter((r.start for r in rows), dtype=np.int32, count=n),
        end=np.fromiter((r.end for r in rows), dtype=np.int32, count=n),
        label=np.fromiter((LABEL_CODES[r.label] for r in rows), dtype=np.int8, count=n),
        chunk=np.fromiter((r.chunk for r in rows), dtype=np.int32, count=n),
        vectors=np.ascontiguousarray(vectors, dtype=np.float32).reshape(n, -1) if n else np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), np.float32),
    )
