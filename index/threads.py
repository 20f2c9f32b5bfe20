"""Compute threads where questions are answered: one per question.

A service answers many questions at once, each a handful of small matrix products and one index
search; BLAS and OpenMP teams of several threads per question only contend (on the project's busy
2-core machine a FAISS exact search over 97k vectors took 79 ms with two OpenMP threads and 21 ms
with one; a 2000×384 matrix-vector product took 4 ms instead of 0.1 ms; docs/scale.md). Builds keep
every core: this is called where questions are asked (`dafu serve`, `dafu ask`, eval, benchmarks).
"""
from __future__ import annotations

_done: set[int] = set()


def limit_for_questions(threads: int | None = 1) -> None:
    """Cap BLAS (numpy's) and FAISS's OpenMP at `threads` in this process (None: leave them)."""
    if not threads or threads in _done:
        return
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=threads, user_api="blas")
    except Exception:  # threadpoolctl missing or a BLAS it does not know: keep the defaults
        pass
    import faiss

    faiss.omp_set_num_threads(threads)
    _done.add(threads)
