#!/usr/bin/env python3
"""python3 -m bench.wine_calls: wineserver round trips (requests) per echo for ours, Asio and the
lecture skeleton, in one run of a minute or two.

Each server runs in the prefix build/wine/calls-server under a freshly started wineserver that
traces every request (`wineserver -d1`, to build/wine/calls-server-wineserver.log, emptied before
each server); the load, client.exe, runs in build/wine/calls-load under an ordinary wineserver, so
the traced one serves the echo server (and Wine's idle helpers) alone. Pinning is bench.run's:
server and its wineserver on one core, the load on the other.

Only the steady state is counted: the log's size is taken as each of client.exe's progress lines
comes in, and the requests between the first line after every connection was accepted (the trace's
first receive on the last new socket; t=1s at the earliest) and the one at t=DURATION-1 (no bot
has stopped yet) are divided by the echoes those lines report (their recv/s). Connects, accepts,
closes and the process's start-up fall outside that window; the whole load's figure, connects
and closes included, is printed beside it. Only the server process's threads are counted (found
from its init_first_thread / init_thread replies); requests of Wine's helper processes in the
window are reported apart.

    python3 -m bench.wine_calls [BOTS]    BOTS ping-pong connections (default 10)
"""
import collections
import os
import re
import subprocess
import sys
import threading
import time

from bench.run import LOAD_CPU, SERVER_CPU, SERVERS
from tests.harness import BUILD, Wine, free_port

NAMES = ("ours", "asio", "skeleton")
DURATION = 6  # seconds of load; the window is t=1s .. t=DURATION-1
BOTS = 10
SETTLE_S = 1.0  # after the server's "listening" line, before the load
LOAD_TIMEOUT = 90
TOP = 5  # request types named in the table

REQUEST = re.compile(rb"^([0-9a-f]{4}): (\w+)\( ", re.M)  # a reply reads "name() = ..."
SOCKET_REPLY = re.compile(rb"^([0-9a-f]{4}): (recv_socket|send_socket)\(\) = (\w+)", re.M)
RECV_HANDLE = re.compile(rb"^([0-9a-f]{4}): recv_socket\( [^\n]*?async=\{handle=([0-9a-f]+),", re.M)
PROGRESS = re.compile(r"^t=(\d+)s .*recv/s=(\d+)")


def load_args(bots):
    """client.exe's options: `bots` ping-pong connections, one echo in flight each."""
    return ["--bots", str(bots), "--mix", "echo", "--depth", "1", "--duration", str(DURATION)]


def align(data, offset):
    """The first line start at or after `offset` in `data` (a log read from its beginning)."""
    if offset <= 0 or data[offset - 1:offset] == b"\n":
        return offset
    newline = data.find(b"\n", offset)
    return len(data) if newline < 0 else newline + 1


def server_threads(data, unix_pid):
    """Hex thread ids ("0108") of the Wine process whose Unix pid is `unix_pid`, from the trace."""
    first = re.search(rb"^([0-9a-f]{4}): init_first_thread\( unix_pid=%d," % unix_pid, data, re.M)
    if not first:
        raise RuntimeError(f"no init_first_thread of unix pid {unix_pid} in the wineserver trace")
    tid = first.group(1)
    reply = re.search(rb"^%s: init_first_thread\(\) = 0 \{ pid=([0-9a-f]+)," % tid, data[first.end():], re.M)
    if not reply:
        raise RuntimeError("no reply to the server's init_first_thread in the wineserver trace")
    more = re.findall(rb"^([0-9a-f]{4}): init_thread\(\) = 0 \{ pid=%s," % reply.group(1), data, re.M)
    return {tid.decode()} | {t.decode() for t in more}


def count_requests(data, threads):
    """(Counter of request names made by `threads`, number of requests made by any other thread)."""
    mine, others = collections.Counter(), 0
    for tid, name in REQUEST.findall(data):
        if tid.decode() in threads:
            mine[name.decode()] += 1
        else:
            others += 1
    return mine, others


def socket_replies(data, threads):
    """Counter of ("recv_socket", "PENDING")-style (request, status) replies to `threads`: how
    many receives and sends completed at once (ALERTED) and how many went pending."""
    return collections.Counter((name.decode(), status.decode()) for tid, name, status in SOCKET_REPLY.findall(data)
                               if tid.decode() in threads)


def run_load(port, load_wine, log_path, bots):
    """client.exe against `port`; returns (progress marks [(t, recv, log size)], RESULT fields)."""
    command = load_wine.command("client.exe", load_args(bots) + ["127.0.0.1", str(port)])
    proc = subprocess.Popen(command, env=load_wine.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    timer = threading.Timer(LOAD_TIMEOUT, proc.kill)
    timer.start()
    marks, text = [], []
    try:
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            text.append(line)
            match = PROGRESS.match(line)
            if match:
                marks.append((int(match.group(1)), int(match.group(2)), os.path.getsize(log_path)))
        proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    result = re.search(r"^RESULT (.*)$", "".join(text), re.M)
    if not result:
        raise RuntimeError("client.exe gave no RESULT:\n" + "".join(text)[-2000:])
    return marks, {k: float(v) for k, v in (kv.split("=") for kv in result.group(1).split())}


def all_receiving(data, threads, bots):
    """Offset in `data` of the first receive on the `bots`-th distinct socket: every connection
    has been accepted by then (the listener never receives)."""
    handles = set()
    for match in RECV_HANDLE.finditer(data):
        if match.group(1).decode() in threads:
            handles.add(match.group(2))
            if len(handles) == bots:
                return match.start()
    raise RuntimeError(f"only {len(handles)} of {bots} connections were ever read from")


def window(marks, after):
    """(first mark, last mark, echoes between them): from the first progress line at or after
    log offset `after` (and t=1s) to the last one before DURATION, when bots start stopping."""
    steady = [m for m in marks if m[0] >= 1 and m[2] >= after and m[0] <= DURATION - 1]
    if len(steady) < 2:
        raise RuntimeError(f"too few progress lines after every connection was accepted: {marks}")
    return steady[0], steady[-1], sum(m[1] for m in steady[1:])


def measure(name, load_wine, bots):
    """One server under a traced wineserver: raw request counts and echoes of its steady state."""
    server_wine = Wine("calls-server", cpu=SERVER_CPU, server_debug=True)
    open(server_wine.log_path, "wb").close()  # this run's trace only
    server_wine.start()
    process = None
    try:
        port = free_port()
        command = SERVERS[name](port)
        spawned_at = os.path.getsize(server_wine.log_path)
        process = server_wine.spawn(command[0], command[1:])
        process.wait_for_line(lambda l: "listening" in l, timeout=60)
        time.sleep(SETTLE_S)
        load_at = os.path.getsize(server_wine.log_path)
        marks, result = run_load(port, load_wine, server_wine.log_path, bots)
        time.sleep(0.5)  # the last closes reach the log
        load_end = os.path.getsize(server_wine.log_path)
        offsets = (spawned_at, load_at, load_end)
        return tally(server_wine.log_path, process.proc.pid, offsets, marks, result, bots)
    finally:
        if process is not None:
            process.stop()
        leftovers = server_wine.stop()
        if leftovers:
            print(f"  {leftovers} processes were still running in {server_wine.prefix}", file=sys.stderr)


def tally(log_path, unix_pid, offsets, marks, result, bots):
    """The counts of one traced run: the steady window's, and the whole load's for comparison."""
    spawned_at, load_at, load_end = offsets
    with open(log_path, "rb") as f:
        f.seek(spawned_at)
        data = f.read(load_end - spawned_at)
    threads = server_threads(data, unix_pid)
    accepted = all_receiving(data, threads, bots) + spawned_at
    first, last, echoes = window(marks, accepted)
    start, end = (align(data, m[2] - spawned_at) for m in (first, last))
    counts, others = count_requests(data[start:end], threads)
    replies = socket_replies(data[start:end], threads)
    whole, _ = count_requests(data[align(data, load_at - spawned_at):], threads)
    return {"counts": counts, "echoes": echoes, "others": others, "threads": sorted(threads), "replies": replies,
            "window_s": (first[0], last[0]),
            "received": result.get("received", 0), "whole_total": sum(whole.values()),
            "errors": result.get("errors", 0)}


def run_all(names=NAMES, bots=BOTS):
    """{server: measure()} for each server, one after the other, sharing one load prefix."""
    for exe in ["client.exe"] + [SERVERS[n](0)[0] for n in names]:
        if not os.path.exists(os.path.join(BUILD, exe)):
            sys.exit(f"build/{exe} is missing: run `make all peers`")
    load_wine = Wine("calls-load", cpu=LOAD_CPU).start()
    try:
        runs = {}
        for name in names:
            print(f"  counting {name} ...", file=sys.stderr, flush=True)
            runs[name] = measure(name, load_wine, bots)
        return runs
    finally:
        load_wine.stop()


def per_echo(runs):
    """{server: {request_type: requests per echo}} from run_all()'s raw counts, largest first."""
    return {name: {t: n / r["echoes"] for t, n in r["counts"].most_common()} if r["echoes"] else {}
            for name, r in runs.items()}


def wine_calls(names=NAMES, bots=BOTS):
    """Runs the measurement: {server: {request_type: wineserver requests per echo, ...}, ...}."""
    return per_echo(run_all(names, bots))


def render(calls):
    """A markdown table of wine_calls()'s result: total per echo and the top request types."""
    lines = ["| server | wineserver round trips per echo | top request types per echo |",
             "| --- | ---: | --- |"]
    for name, types in calls.items():
        top = ", ".join(f"{t} {v:.2f}" for t, v in list(types.items())[:TOP])
        lines.append(f"| {name} | {sum(types.values()):.2f} | {top} |")
    return "\n".join(lines) + "\n"


def render_raw(runs):
    """Plain text: every request type's raw count in the window, per server, and the checks."""
    out = []
    for name, r in runs.items():
        total = sum(r["counts"].values())
        whole = r["whole_total"] / r["received"] if r["received"] else float("nan")
        out.append(f"{name}: {total} requests for {r['echoes']} echoes from t={r['window_s'][0]}s to "
                   f"t={r['window_s'][1]}s (threads "
                   f"{','.join(r['threads'])}; {r['others']} requests by other processes); whole load, "
                   f"connects and closes included: {r['whole_total']} for {r['received']:.0f} echoes = "
                   f"{whole:.2f} per echo; client errors {r['errors']:.0f}")
        out.extend(f"    {t:<28} {n}" for t, n in r["counts"].most_common())
        out.append("    replies: " + ", ".join(f"{q} {s} {n}" for (q, s), n in sorted(r["replies"].items())))
    return "\n".join(out) + "\n"


def main():
    """python3 -m bench.wine_calls [BOTS]: all three servers, BOTS connections (default 10)."""
    bots = int(sys.argv[1]) if len(sys.argv) > 1 else BOTS
    started = time.monotonic()
    runs = run_all(bots=bots)
    print(render_raw(runs))
    print(f"client.exe {' '.join(load_args(bots))}; counted from the first progress line "
          f"after every connection was read from (t=1s at the earliest) to t={DURATION - 1}s; "
          f"{time.monotonic() - started:.0f} s in all\n")
    print(render(per_echo(runs)))


if __name__ == "__main__":
    main()
