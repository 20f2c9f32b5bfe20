"""The background a question's best sentence is judged against (service.retrieval.background_rows): every
sentence of a corpus up to the cap; beyond it a share chosen per sentence, so that adding letters never
reshuffles the sentences already in it."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from service.retrieval import background_rows


class _Table:
    def __init__(self, reply: list[int], start: list[int]) -> None:
        self.reply = np.asarray(reply, np.int32)
        self.start = np.asarray(start, np.int32)

    def __len__(self) -> int:
        return len(self.reply)


def _index(n_replies: int, per_reply: int = 50):
    reply = [r for r in range(n_replies) for _ in range(per_reply)]
    start = [30 * k for _ in range(n_replies) for k in range(per_reply)]
    return SimpleNamespace(sentences=_Table(reply, start), reply_ids=[f"{r}_2024" for r in range(n_replies)])


def test_a_small_corpus_is_its_own_background():
    ix = _index(10)
    assert background_rows(ix, 1000).tolist() == list(range(500))


def test_adding_letters_keeps_the_background_of_the_letters_already_there():
    small, large = _index(200), _index(220)  # 10,000 and 11,000 sentences; the first 200 letters are the same
    a, b = background_rows(small, 2000), background_rows(large, 2000)
    key = lambda ix, rows: {(ix.reply_ids[int(ix.sentences.reply[r])], int(ix.sentences.start[r])) for r in rows}  # noqa: E731
    ka, kb = key(small, a), key(large, b)
    assert 1500 <= len(a) <= 2000 and 1500 <= len(b) <= 2000  # about the cap
    # a sentence of the first 200 letters left the background only because the share shrank (2000/11000 < 2000/10000):
    # none entered it, and the new background holds most of the old one
    old_letters = {f"{r}_2024" for r in range(200)}
    assert {k for k in kb if k[0] in old_letters} <= ka
    assert len(ka & kb) >= 0.85 * len(ka)  # rows drawn at random (the earlier rule) would share about a fifth


def test_the_moments_give_the_mean_and_spread_of_every_cosine():
    from service.retrieval import background_moments

    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(5000, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    q = rng.normal(size=16).astype(np.float32)
    q /= np.linalg.norm(q)
    mean, cov = background_moments(vecs, block=700)  # blocks that do not divide the rows
    sims = vecs.astype(np.float64) @ q
    assert abs(mean @ q - sims.mean()) < 1e-9
    assert abs(np.sqrt(q @ cov @ q) - sims.std()) < 1e-7
