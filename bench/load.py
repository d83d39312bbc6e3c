"""A bounded load test of the one-click and decision endpoints against the real local stack
(`chalice local` on the embedded DynamoDB server), from a small threaded driver.

Prints, per endpoint, requests sent, error rate, and latency percentiles. Only loopback is
targeted; the run stops after `--requests` per endpoint or `--seconds`, whichever comes first.

    .venv/bin/python bench/load.py [--threads 4] [--requests 400] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from common import ROOT  # noqa: F401  (puts the project on sys.path)

from tests.helpers import LocalStack

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def drive(name: str, make_request, count: int, threads: int, deadline: float) -> None:
    latencies: list[float] = []
    outcomes: Counter = Counter()
    lock, next_index = threading.Lock(), iter(range(count))

    def worker():
        with requests.Session() as session:
            while time.monotonic() < deadline:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                start = time.perf_counter()
                try:
                    status = make_request(session, index).status_code
                except requests.RequestException as error:
                    status = type(error).__name__
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    outcomes[status] += 1

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    sent = sum(outcomes.values())
    errors = sum(n for status, n in outcomes.items() if not (isinstance(status, int) and status < 500))
    print(
        f"{name:<28} {sent:5d} requests in {wall:5.1f} s ({sent / wall:5.1f}/s)  errors {errors / max(sent, 1):6.2%}  "
        f"p50 {percentile(latencies, 0.5) * 1000:6.1f} ms  p95 {percentile(latencies, 0.95) * 1000:6.1f} ms  "
        f"p99 {percentile(latencies, 0.99) * 1000:6.1f} ms  max {max(latencies) * 1000:6.1f} ms  statuses {dict(outcomes)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()

    stack = LocalStack(Path(tempfile.mkdtemp(prefix="offboard-load-")))
    stack.env["OFFER_DECISIONS_PER_IP_PER_MINUTE"] = "100000"  # one client address sends everything here
    stack.env["OFFER_ISSUES_PER_IP_PER_MINUTE"] = "100000"
    stack.start()
    try:
        n = args.requests
        people = [f"load{i}@example.com" for i in range(n)]
        for email in people:
            stack.admin("POST", "/v1/lists/newsletter/subscribers", {"email": email}).raise_for_status()
        links = [stack.link(email) for email in people]
        origin = stack.base_url
        stack.admin(
            "POST", "/v1/sites", {"site_key": "load", "name": "Load", "allowed_origins": [origin]}
        ).raise_for_status()
        campaign = {
            "offer": {"kind": "percent", "value": 10},
            "budget": {"total_codes": 1_000_000},
            "targeting": {"paths": ["/*"]},
        }
        stack.admin("PUT", "/v1/sites/load/campaigns/load", campaign).raise_for_status()
        print(
            f"{args.threads} threads, at most {n} requests per endpoint or {args.seconds:.0f} s, against {stack.base_url}"
        )

        def one_click(session, i):
            return session.post(
                links[i],
                data="List-Unsubscribe=One-Click",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=30,
            )

        def decide(session, i):
            body = json.dumps({"site_key": "load", "visitor_id": f"visitor{i}", "page_url": f"{origin}/cart"})
            return session.post(
                f"{origin}/offers/decide",
                data=body,
                headers={"Content-Type": "text/plain", "Origin": origin, "User-Agent": CHROME},
                timeout=30,
            )

        def decide_again(session, i):
            return decide(session, i)

        drive("one-click POST", one_click, n, args.threads, time.monotonic() + args.seconds)
        drive("decision, code issued", decide, n, args.threads, time.monotonic() + args.seconds)
        drive("decision, returning visitor", decide_again, n, args.threads, time.monotonic() + args.seconds)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
