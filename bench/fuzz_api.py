"""Schemathesis over the whole HTTP API (every operation, all checks), counting 5xx on the server side.

    python bench/fuzz_api.py                          # 180 s budget, fake encoder, admin token set
    python bench/fuzz_api.py --max-time 600 --json out.json

Starts `dafu serve` (API and web chat; the OpenAPI document covers the API) on a temp copy of the bundled
sample with an admin token, so the admin operations (upload, delete, rebuild) are exercised too, and with the
per-client rate limits off (one fuzzer would otherwise meet them at once and stop reaching the handlers; they
are exercised by bench/hostile.py and tests/faults). Then runs

    schemathesis run <url>/openapi.json --checks all -H 'Authorization: Bearer …' --max-time N

and reads dafu_http_requests_total from /metrics: the number of 5xx responses the server gave (whatever the
fuzzer reported), by route. Prints schemathesis' summary, the status counts, and PASS when there was no 5xx.
Schemathesis' other checks (e.g. a response that its schema does not describe) are reported as they are.
The encoder does not change which code paths run: DAFU_EMBED_MODEL defaults to `fake` here for speed.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hostile import served  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-time", type=int, default=180, help="schemathesis time budget, seconds")
    ap.add_argument("--workers", default="1")
    ap.add_argument("--json", dest="json_out")
    args = ap.parse_args(argv)
    token = f"fuzz-{random.getrandbits(64):x}"
    env = {"DAFU_ADMIN_TOKEN": token, "DAFU_EMBED_MODEL": os.environ.get("DAFU_EMBED_MODEL", "fake"),
           **{f"DAFU_RATE_LIMIT_{k}": "0" for k in ("ASK", "FEEDBACK", "ADMIN", "AUTH_FAILURES")}}
    exe = Path(sys.executable).with_name("schemathesis")
    with served(env, ui=True) as (url, home):
        cmd = [str(exe) if exe.exists() else "schemathesis", "run", f"{url}/openapi.json", "--checks", "all",
               "-H", f"Authorization: Bearer {token}", "--max-time", str(args.max_time), "--workers", args.workers,
               "--request-timeout", "60", "--no-color"]
        print("$ " + " ".join(cmd).replace(token, "<token>"), file=sys.stderr)
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"},
                              cwd=str(home))  # its .schemathesis/ cache goes to the temp folder, not the checkout
        metrics = httpx.get(f"{url}/metrics", timeout=30).text
        log = (home / "serve.log").read_text(errors="replace")
    out = proc.stdout + proc.stderr
    print(out[-6000:])
    status: Counter = Counter()
    five: Counter = Counter()
    for ln in metrics.splitlines():
        m = re.match(r'dafu_http_requests_total\{method="(\w+)",route="([^"]*)",status="(\d+)"\} ([\d.e+]+)', ln)
        if m:
            status[m.group(3)] += int(float(m.group(4)))
            if m.group(3).startswith("5"):
                five[f"{m.group(1)} {m.group(2)} {m.group(3)}"] += int(float(m.group(4)))
    total_5xx = sum(five.values())
    res = {"schemathesis_exit": proc.returncode, "max_time_s": args.max_time, "server_requests": sum(status.values()),
           "server_status": dict(sorted(status.items())), "server_5xx": total_5xx, "server_5xx_by_route": dict(five),
           "unhandled_errors_in_log": log.count("unhandled error"),
           "summary": [ln for ln in out.splitlines() if re.search(r"passed|failed|error|Test cases|Seed|Operations", ln)][-12:]}
    print(json.dumps({k: v for k, v in res.items() if k != "summary"}, ensure_ascii=False, indent=1))
    print(f"server 5xx: {total_5xx} → {'PASS' if total_5xx == 0 else 'FAIL'}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(res, ensure_ascii=False, indent=1), "utf-8")
        Path(args.json_out).with_suffix(".log").write_text(out.replace(token, "<token>"), "utf-8")
    return 0 if total_5xx == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
