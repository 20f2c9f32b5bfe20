"""Load with hostile input: N clients for M seconds, a share of the requests hostile; compare with a clean run.

    nice -n 10 python bench/hostile.py                       # 50 clients × 60 s, clean run then 10% hostile
    python bench/hostile.py --clients 50 --duration 60 --hostile 0.1 --json out.json

Starts `dafu serve` (web chat included, default encoder unless DAFU_EMBED_MODEL is set) on a free loopback
port with DAFU_HOME in a temp folder (the bundled sample is indexed on start-up), warms it with --prewarm seconds
of normal load (not measured: the answer and query caches fill), then runs the same closed-loop load twice
against that one server: without hostile requests, and with each request hostile with probability --hostile. Normal requests are bench/load.py's questions and follow-ups (POST /api/ask); each normal client has
its own address (X-Forwarded-For, which uvicorn trusts from 127.0.0.1), hostile requests come from a few
other addresses. Hostile kinds (13), in turn:

  long-question    100,000 characters to POST /api/ask                               (expect 422 or 429)
  long-webchat     100,000 characters through the web chat's own endpoint             (expect 200 + refusal, or 429)
  long-history     20 history turns of 5,000 characters                              (expect 422 or 429)
  bad-token        POST /api/index/rebuild with a wrong bearer token                   (expect 401 or 429)
  feedback-flood   POST /api/feedback for an unknown answer id                        (expect 404 or 429)
  cors-probe       GET / with Host: dafu.example.gov and Origin: https://evil.example  (expect no ACAO header)
  gradio-upload    POST /gradio_api/upload with an HTML file                          (expect 404)
  bad-json         POST /api/ask with a broken JSON body                              (expect 422 or 429)
  big-body         POST /api/ask with a 2 MB body                                     (expect 413)
  traversal        GET /api/replies/..%2F..%2Fetc%2Fpasswd                            (expect 404)
  odd-chars        a question of control/surrogate-escape characters                  (expect 200/422/429)
  bomb-upload      POST /api/replies (no token) with a 40 MB-unpacking .docx          (expect 401)
  unknown-event    POST /gradio_api/call/<no such event>                              (expect 404)

Prints, per run: requests, status counts, 5xx, normal-request latency p50/p95/p99, and per hostile kind the
statuses and the number of unexpected outcomes (a 5xx, or a CORS header for the evil origin). The pass line:
0 5xx in both runs and p95(normal, hostile run) ≤ 2 × p95(normal, clean run). Exit status 1 when it fails.

The server runs with an admin token (so wrong tokens meet the auth-failure limit) and
DAFU_RATE_LIMIT_ASK=600/minute by default (--ask-limit): the normal clients here ask in
a closed loop, far faster than people do, and must not be throttled; every other limit keeps its default.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import free_port, make_body, pct  # noqa: E402

LONG = "通州在产教融合方面做了哪些工作？" * 6250
HOSTILE_IPS = [f"10.66.0.{i}" for i in range(1, 5)]


def docx_bomb(unpacked: int = 40 * 1024 * 1024) -> bytes:
    para = "<w:p><w:r><w:t>产教融合深入推进，新增五年制高职专业3个。</w:t></w:r></w:p>" * 2000
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"/>')
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            block, n = para.encode(), 0
            while n < unpacked:
                f.write(block)
                n += len(block)
    return buf.getvalue()


@contextlib.contextmanager
def served(env_extra: dict[str, str], ui: bool = True, ready_timeout: float = 600):
    """`dafu serve` on a free loopback port with a temp DAFU_HOME; yields (url, home); stops only that process."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="dafu-bench-") as home:
        env = {**os.environ, "DAFU_HOME": home, **env_extra}
        env.pop("DAFU_INDEX_DIR", None)
        dafu = Path(sys.executable).with_name("dafu")
        cmd = [str(dafu) if dafu.exists() else "dafu", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning"] + ([] if ui else ["--no-ui"])
        log = open(Path(home) / "serve.log", "w+")
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            t0 = time.monotonic()
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"dafu serve exited with {proc.returncode}:\n{log.read()[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                if time.monotonic() - t0 > ready_timeout:
                    raise SystemExit(f"dafu serve not ready after {ready_timeout:.0f}s")
                time.sleep(0.5)
            print(f"dafu serve (pid {proc.pid}) ready at {url} in {time.monotonic() - t0:.1f}s", file=sys.stderr)
            yield url, Path(home)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def _xff(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


_CHAT_EVENT: list[str] = []


async def chat_event(http: httpx.AsyncClient) -> str:
    """The web chat's ask event (the send button's, with the question box as first input), read from /config."""
    if not _CHAT_EVENT:
        cfg = (await http.get("/config")).json()
        qid = next(x["id"] for x in cfg["components"] if x.get("props", {}).get("elem_id") == "question")
        _CHAT_EVENT.append(next(d["api_name"] for d in cfg["dependencies"] if d.get("inputs") and d["inputs"][0] == qid
                                and d.get("api_name") and d["targets"][0][1] == "click"))
    return _CHAT_EVENT[0]


async def hostile_request(http: httpx.AsyncClient, kind: str, bomb: bytes) -> tuple[int, bool]:
    """One hostile request; (status, expected?)."""
    h = _xff(random.choice(HOSTILE_IPS))
    if kind == "long-question":
        r = await http.post("/api/ask", json={"question": LONG}, headers=h)
        return r.status_code, r.status_code in (422, 429)
    if kind == "long-webchat":
        name = await chat_event(http)
        r = await http.post(f"/gradio_api/call/{name}", json={"data": [LONG, "不限", "不限", [], ""]}, headers=h)
        if r.status_code != 200:
            return r.status_code, r.status_code == 429
        s = await http.get(f"/gradio_api/call/{name}/{r.json()['event_id']}", headers=h)
        return s.status_code, s.status_code == 200 and "at most" in s.text and "event: complete" in s.text
    if kind == "unknown-event":
        r = await http.post(f"/gradio_api/call/nope{random.getrandbits(16)}", json={"data": []}, headers=h)
        return r.status_code, r.status_code in (404, 429)
    if kind == "long-history":
        r = await http.post("/api/ask", json={"question": "那人社局呢？",
                                              "history": [{"question": "问" * 5000}] * 20}, headers=h)
        return r.status_code, r.status_code in (413, 422, 429)
    if kind == "bad-token":
        r = await http.post("/api/index/rebuild", headers={**h, "Authorization": f"Bearer guess{random.random()}"})
        return r.status_code, r.status_code in (401, 403, 429)
    if kind == "feedback-flood":
        r = await http.post("/api/feedback", json={"answer_id": f"{random.getrandbits(128):032x}", "rating": "up"},
                            headers=h)
        return r.status_code, r.status_code in (404, 429)
    if kind == "cors-probe":
        r = await http.get("/", headers={**h, "Host": "dafu.example.gov", "Origin": "https://evil.example"})
        return r.status_code, r.status_code < 500 and "access-control-allow-origin" not in r.headers
    if kind == "gradio-upload":
        r = await http.post("/gradio_api/upload", files=[("files", ("x.html", b"<script>alert(1)</script>", "text/html"))],
                            headers=h)
        return r.status_code, r.status_code == 404
    if kind == "bad-json":
        r = await http.post("/api/ask", content=b'{"question": "\xff\xfe', headers={**h, "content-type": "application/json"})
        return r.status_code, r.status_code in (400, 422, 429)
    if kind == "big-body":
        r = await http.post("/api/ask", content=b'{"question": "' + b"a" * (2 << 20) + b'"}',
                            headers={**h, "content-type": "application/json"})
        return r.status_code, r.status_code == 413
    if kind == "traversal":
        r = await http.get("/api/replies/..%2F..%2Fetc%2Fpasswd", headers=h)
        return r.status_code, r.status_code in (404, 422)
    if kind == "odd-chars":
        body = '{"question": "' + "\\u0000\\u202e\\ud800问题\\uffff" * 10 + '"}'  # a lone surrogate, as JSON escapes
        r = await http.post("/api/ask", content=body.encode("utf-8"), headers={**h, "content-type": "application/json"})
        return r.status_code, r.status_code in (200, 422, 429)
    if kind == "bomb-upload":
        r = await http.post("/api/replies", files=[("files", ("bomb.docx", bomb))], headers=h)
        return r.status_code, r.status_code in (401, 403, 429)
    raise ValueError(kind)


KINDS = ["long-question", "long-webchat", "long-history", "bad-token", "feedback-flood", "cors-probe", "gradio-upload",
         "bad-json", "big-body", "traversal", "odd-chars", "bomb-upload", "unknown-event"]


async def client_loop(cid: int, http: httpx.AsyncClient, share: float, t_end: float, t_measure: float, res: dict,
                      counter: list[int], bomb: bytes, rng: random.Random, unique: bool = False) -> None:
    i = cid
    me = _xff(f"10.1.{cid // 250}.{cid % 250 + 1}")
    while time.monotonic() < t_end:
        counter[0] += 1
        hostile = rng.random() < share
        kind = KINDS[counter[0] % len(KINDS)] if hostile else "normal"
        t0 = time.monotonic()
        try:
            if hostile:
                code, ok = await hostile_request(http, kind, bomb)
            else:
                body = make_body(i, counter[0], "ask", unique)
                i += 1
                r = await http.post("/api/ask", json=body, headers=me)
                code = r.status_code
                ok = code == 200 and "answer_id" in r.json()
        except httpx.HTTPError as e:
            code, ok = type(e).__name__, False
        dt = time.monotonic() - t0
        if t0 < t_measure:
            continue
        res["status"][kind][str(code)] += 1
        if isinstance(code, int) and code >= 500:
            res["5xx"] += 1
        if not ok:
            res["unexpected"][kind] += 1
        elif not hostile:
            res["lat"].append(dt)


async def run(url: str, clients: int, duration: float, warmup: float, share: float, timeout: float, seed: int,
              unique: bool = False) -> dict:
    res: dict = {"status": defaultdict(Counter), "unexpected": Counter(), "lat": [], "5xx": 0}
    bomb = docx_bomb()
    # idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them under us (a ReadError race)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=2.0)
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits, trust_env=False) as http:
        t_start = time.monotonic()
        t_measure, t_end = t_start + warmup, t_start + warmup + duration
        counter = [0]
        await asyncio.gather(*(client_loop(c, http, share, t_end, t_measure, res, counter, bomb,
                                           random.Random(rng.random()), unique) for c in range(clients)))
        metrics = (await http.get("/metrics")).text
    lat = res["lat"]
    n = sum(sum(c.values()) for c in res["status"].values())
    hostile_n = n - sum(res["status"]["normal"].values())
    server_5xx = sum(float(ln.rsplit(" ", 1)[1]) for ln in metrics.splitlines()
                     if ln.startswith("dafu_http_requests_total{") and 'status="5' in ln)
    return {"clients": clients, "duration_s": duration, "hostile_share": share, "requests": n,
            "hostile_requests": hostile_n, "normal_ok": len(lat), "qps_normal": round(len(lat) / duration, 2),
            "p50_ms": round(pct(lat, 50) * 1000, 1), "p95_ms": round(pct(lat, 95) * 1000, 1),
            "p99_ms": round(pct(lat, 99) * 1000, 1), "client_5xx": res["5xx"], "server_5xx_total": server_5xx,
            "unexpected": dict(res["unexpected"]), "status": {k: dict(v) for k, v in res["status"].items()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--hostile", type=float, default=0.10, help="share of requests that are hostile")
    ap.add_argument("--unique", action="store_true", help="every normal question differs (no answer/query cache hits)")
    ap.add_argument("--prewarm", type=float, default=30.0, help="seconds of unmeasured normal load before the runs")
    ap.add_argument("--ask-limit", default="600/minute", help="DAFU_RATE_LIMIT_ASK for the server")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    env = {"DAFU_RATE_LIMIT_ASK": args.ask_limit, "DAFU_ADMIN_TOKEN": f"bench-{random.getrandbits(64):x}"}
    out: dict = {"unique_questions": args.unique}
    with served(env, ui=True) as (url, _home):
        if args.prewarm > 0:  # fill the server's caches first, so that neither measured run pays for them
            asyncio.run(run(url, args.clients, args.prewarm, 0.0, 0.0, args.timeout, args.seed + 1, args.unique))
            print(f"[prewarm] {args.prewarm:.0f}s of normal load, not measured", file=sys.stderr)
        for name, share in (("clean", 0.0), ("hostile", args.hostile)):
            r = asyncio.run(run(url, args.clients, args.duration, args.warmup, share, args.timeout, args.seed, args.unique))
            out[name] = r
            print(f"[{name}] {r['clients']} clients × {r['duration_s']:.0f}s  requests={r['requests']} "
                  f"(hostile {r['hostile_requests']})  5xx={r['client_5xx']}  normal ok={r['normal_ok']} "
                  f"QPS={r['qps_normal']}  p50={r['p50_ms']}ms p95={r['p95_ms']}ms p99={r['p99_ms']}ms")
            if r["unexpected"]:
                print(f"[{name}] unexpected outcomes: {r['unexpected']}")
            for kind, st in sorted(r["status"].items()):
                print(f"    {kind:15s} {st}")
    ratio = out["hostile"]["p95_ms"] / out["clean"]["p95_ms"] if out["clean"]["p95_ms"] else float("inf")
    ok = out["clean"]["client_5xx"] == out["hostile"]["client_5xx"] == 0 and out["hostile"]["server_5xx_total"] == 0 \
        and ratio <= 2.0 and not out["hostile"]["unexpected"].get("normal")
    out["p95_ratio"] = round(ratio, 3)
    out["pass"] = ok
    print(f"p95 normal: hostile/clean = {ratio:.2f} (≤ 2 required); 5xx: {out['hostile']['server_5xx_total']:.0f} "
          f"on the server in all → {'PASS' if ok else 'FAIL'}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(out, ensure_ascii=False, indent=1), "utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
