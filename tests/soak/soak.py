#!/usr/bin/env python3
"""Soak: client.exe bots with mixed ping/move/chat traffic and reconnect churn against one
server.exe for a long time, then the leak checks.

    python3 -m tests.soak.soak [SECONDS]     (make soak: 600; make test runs a 60-second one)

Passes when client.exe saw no error (nothing lost, duplicated or reordered; every bot connected),
and afterwards the server is back to its baseline: online=1 (the probe), sockets= as before the
run, and mem_kb= within MEMORY_SLACK of the baseline taken after a warm-up run of the same load.
"""
import re
import sys
import time

from tests.harness import Wine

BOTS = 200
RATE = 2
RECONNECT_S = 5
WARM_UP_S = 10
MEMORY_SLACK = 1.10  # mem_kb may end at most 10 % above the warmed-up baseline


def bot_run(wine, port, seconds):
    args = ["--bots", str(BOTS), "--rate", str(RATE), "--reconnect", str(RECONNECT_S), "--ramp", "200",
            "--mix", "ping,move,chat", "--duration", str(seconds), "127.0.0.1", str(port)]
    proc = wine.run("client.exe", args, capture_output=True, timeout=seconds + 120)
    output = proc.stdout.decode(errors="replace")
    match = re.search(r"^RESULT (.*)$", output, re.M)
    result = {k: float(v) for k, v in (kv.split("=") for kv in match.group(1).split())} if match else {}
    reconnects = re.search(r"reconnects\s+(\d+)", output)
    result["reconnects"] = float(reconnects.group(1)) if reconnects else 0.0
    return proc.returncode, result, output


def settled_stats(server, baseline_sockets, timeout=30):
    """/stats once the churn has drained: online back to the probe alone, sockets to baseline."""
    deadline = time.monotonic() + timeout
    while True:
        stats = server.stats()
        if (stats["online"] == 1 and stats["sockets"] == baseline_sockets) or time.monotonic() > deadline:
            return stats
        time.sleep(0.5)


def run_soak(seconds, wine):
    """Returns (ok, report lines)."""
    server = wine.start_server(["--quiet"])
    report = []
    try:
        code, warm, _ = bot_run(wine, server.port, WARM_UP_S)
        if code != 0:
            return False, [f"warm-up failed: {warm}"]
        with server.connect() as probe:
            probe.read_line()
            time.sleep(2)
            baseline = probe.stats()
        report.append("baseline  sockets=%d mem_kb=%d (probe connected)" % (baseline["sockets"], baseline["mem_kb"]))
        started = time.monotonic()
        code, result, output = bot_run(wine, server.port, seconds)
        report.append("soak      %d s, %d bots, %d/s each, reconnect every %d s: exit %d" %
                      (time.monotonic() - started, BOTS, RATE, RECONNECT_S, code))
        report.append("RESULT    " + " ".join(f"{k}={v:g}" for k, v in result.items()))
        after = settled_stats(server, baseline["sockets"] - 1)
        # the probe of settled_stats is connected while it reads: compare like with like
        report.append("after     online=%d sockets=%d mem_kb=%d accepted=%d slow_dropped=%d" %
                      (after["online"], after["sockets"], after["mem_kb"], after["accepted"], after["slow_dropped"]))
        ok = (code == 0 and result.get("errors") == 0 and result.get("connected") == BOTS and
              result.get("reconnects", 0) > 0 and after["online"] == 1 and
              after["sockets"] == baseline["sockets"] and after["slow_dropped"] == 0 and
              after["mem_kb"] <= baseline["mem_kb"] * MEMORY_SLACK)
        if code != 0:
            report.append(output[-3000:])
        return ok, report
    finally:
        server.stop()


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    wine = Wine("soak").start()
    try:
        ok, report = run_soak(seconds, wine)
        died = wine.dead_report()
        if died:
            ok = False
            report.append(died)
    finally:
        leftovers = wine.stop()
    if leftovers:
        ok = False
        report.append(f"{leftovers} processes of the soak prefix were still running at the end")
    print("\n".join(report))
    print("soak: " + ("passed" if ok else "FAILED"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
