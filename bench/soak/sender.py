"""The soak's webhook sender: a separate process posting signed Clockify webhooks at a steady rate.

    python bench/soak/sender.py <config.json> <result.json>

Config: ``{"seconds", "rate", "threads", "targets": [{"url", "token", "event", "body"}]}``. Each
request is the target's body with a fresh 24-hex ``id``, sent at its slot of the paced schedule
(never faster; slower only when the platform is). Result: per-second counts by status, latencies,
and the ids answered 200. Standard library + requests only: no Django in this process.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import requests


def main(config_path: str, result_path: str) -> int:
    config = json.loads(open(config_path).read())
    seconds, rate, targets = float(config["seconds"]), float(config["rate"]), config["targets"]
    local = threading.local()
    lock = threading.Lock()
    per_second: dict[int, Counter] = defaultdict(Counter)
    latencies_ms: list[float] = []
    accepted: list[str] = []
    prefix = f"{os.getpid() & 0xFFFF:04x}"

    def send(n: int, slot: float) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        target = targets[n % len(targets)]
        event_id = f"{prefix}{n:020x}"
        body = json.dumps({**target["body"], "id": event_id})
        started = time.monotonic()
        try:
            status = session.post(target["url"], data=body, timeout=30, headers={
                "clockify-signature": target["token"], "clockify-webhook-event-type": target["event"],
                "content-type": "application/json"}).status_code
        except requests.RequestException:
            status = 0
        elapsed = (time.monotonic() - started) * 1000
        with lock:
            per_second[int(slot)][str(status)] += 1
            if status == 200:
                latencies_ms.append(elapsed)
                accepted.append(event_id)

    start = time.monotonic()
    total = int(seconds * rate)
    with ThreadPoolExecutor(int(config.get("threads", 8))) as pool:
        for n in range(total):
            slot = n / rate
            delay = start + slot - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, n, slot)
    wall = time.monotonic() - start
    json.dump({"wall_s": wall, "sent": total, "per_second": {k: dict(v) for k, v in sorted(per_second.items())},
               "latencies_ms": latencies_ms, "accepted_ids": accepted}, open(result_path, "w"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
