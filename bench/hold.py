#!/usr/bin/env python3
"""make bench-hold (python3 -m bench.hold): N idle connections held on one thread, and what that
costs. For each N, each server (server.exe --max-clients 100000, the Asio chat peer, the lecture's
skeleton, and BENCH_BASELINE's older server.exe when given) is started with a wineserver of its own
on core 0; build/holdload (bench/native/holdload.cpp), on core 1, opens N connections from four
127.0.0.x addresses at a stated ramp, holds them, and measures: connects lost, the accept rate, the
time until one line said by an extra client reaches all N (the broadcast), and that client's
/ping round trips while the N are held (an idle crowd must cost the active client nothing). The
server's resident memory is read before the load and while the N are held: bytes per connection
are the growth over N (server.exe's own /stats conn_bytes beside it). The wineserver's growth is
shown too: under Wine it holds each socket's kernel side, as Windows' kernel would.

Figures go to stdout, bench/results.md (between the hold markers) and bench/hold.png.
BENCH_HOLD_ONLY=ours (a server name) and BENCH_HOLD_RUNS=N:RAMP,... narrow a run; nothing is written then.
"""
import os
import re
import subprocess
import sys
import time

from bench.run import LOAD_CPU, SERVER_CPU, PinnedServer, output_of, platform_line, rss_kb, tagged_fields, write_between
from tests.harness import BUILD, ROOT, Wine, free_port

ONLY = os.environ.get("BENCH_HOLD_ONLY", "")
SOURCES = 4
# (connections, ramp a second): the ramps the issue asks for; the last row is a burst, for the
# accept rate alone.
RUNS = [(5000, 2000), (10000, 2000), (19000, 2000), (10000, 20000)]
if os.environ.get("BENCH_HOLD_RUNS"):  # "N:RAMP,N:RAMP": other sizes (nothing is written then)
    RUNS = [tuple(int(x) for x in run.split(":")) for run in os.environ["BENCH_HOLD_RUNS"].split(",")]
SERVERS = {
    "ours": (lambda port: ["server.exe", "--quiet", "--max-clients", "100000", "--line-rate", "0", "--bind", "127.0.0.1",
                           "--port", str(port)], "chat"),
    "asio": (lambda port: ["asio_chat.exe", str(port)], "chat"),
    "skeleton": (lambda port: ["skeleton_echo.exe", str(port)], "echo"),
}
BASELINE = os.environ.get("BENCH_BASELINE", "")
if BASELINE:
    SERVERS["baseline"] = (lambda port: [os.path.abspath(BASELINE), "--quiet", "--max-clients", "100000", "--line-rate",
                                         "0", "--bind", "127.0.0.1", "--port", str(port)], "chat")


def measure(name, conns, ramp):
    command, mode = SERVERS[name]
    port = free_port()
    server = PinnedServer(command(port), Wine("bench-server", cpu=SERVER_CPU))
    try:
        time.sleep(1)
        base = {"server": server.rss_kb(), "wineserver": rss_kb(server.wine.server.pid)}
        held = {}

        def on_line(line):
            if line.startswith("HELD"):
                time.sleep(1)  # within holdload's settle time: every connection is in and idle
                held.update(server=server.rss_kb(), wineserver=rss_kb(server.wine.server.pid))

        load = ["taskset", "-c", LOAD_CPU, os.path.join(BUILD, "holdload"), "--conns", str(conns), "--sources",
                str(SOURCES), "--ramp", str(ramp), "--mode", mode, "--settle", "3", "127.0.0.1", str(port)]
        text = output_of(load, None, 600, on_line)
        fields = tagged_fields(text, "RESULT")
        if not fields:
            sys.stderr.write("holdload gave no RESULT:\n" + text[-2000:])
        row = {**fields, "server": name, "conns": conns, "ramp": ramp, "mode": mode}
        if held:
            row["rss_mb"] = held["server"] / 1024
            row["bytes_per_conn"] = (held["server"] - base["server"]) * 1024 / conns
            row["wineserver_bytes_per_conn"] = (held["wineserver"] - base["wineserver"]) * 1024 / conns
        return row
    finally:
        server.stop()


def number(row, key, digits=0):
    value = row.get(key, float("nan"))
    return "-" if value != value or value < 0 else f"{value:,.{digits}f}"


def render(rows, started):
    lines = [f"Hold run {started} on {os.cpu_count()} cores, {platform_line()}; each server and its own wineserver on "
             f"core {SERVER_CPU}, build/holdload on core {LOAD_CPU}, connections from {SOURCES} loopback addresses.", "",
             "| held | ramp /s | server | served | lost | accepts /s | server MB | bytes/conn | conn_bytes (/stats) | "
             "wineserver bytes/conn | broadcast to all p50 / max ms | ping p50 / p99 ms |",
             "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        broadcast = (f"{number(r, 'broadcast_p50_ms')} / {number(r, 'broadcast_max_ms')}" if r["mode"] == "chat"
                     else "(echo: none)")
        lines.append(f"| {int(r['conns']):,} | {int(r['ramp']):,} | {r['server']} | {number(r, 'served')} | {number(r, 'lost')} | "
                     f"{number(r, 'accept_per_s')} | {number(r, 'rss_mb', 1)} | {number(r, 'bytes_per_conn')} | "
                     f"{number(r, 'conn_bytes')} | {number(r, 'wineserver_bytes_per_conn')} | {broadcast} | "
                     f"{number(r, 'ping_p50_ms', 2)} / {number(r, 'ping_p99_ms', 2)} |")
    return "\n".join(lines) + "\n"


def chart(rows):
    """Bytes a held connection costs the server, and the extra client's ping p99, against N."""
    if not rows or subprocess.run(["which", "gnuplot"], capture_output=True).returncode != 0:
        print("gnuplot is missing or nothing was measured: no chart")
        return
    names = sorted({r["server"] for r in rows}, key=list(SERVERS).index)
    files = {}
    for name in names:
        files[name] = os.path.join(BUILD, f"hold-{name}.dat")
        with open(files[name], "w") as f:
            for r in rows:
                if r["server"] == name and r["ramp"] == 2000 and "bytes_per_conn" in r:
                    f.write(f"{r['conns']} {r['bytes_per_conn'] / 1024:.3f} {r.get('ping_p99_ms', 0):.3f}\n")
    out = os.path.join(ROOT, "bench", "hold.png")
    script = ['set terminal pngcairo size 1000,420 font ",10"', f'set output "{out}"',
              'set multiplot layout 1,2 title "Idle connections held on one thread, under Wine"', "set grid",
              "set key top left", 'set xlabel "connections held"', 'set title "server memory per held connection"',
              'set ylabel "KiB"', "set yrange [0:*]",
              "plot " + ", ".join(f'"{files[n]}" using 1:2 with linespoints title "{n}"' for n in names) +
              ", 1 title \"1 KiB\" dashtype 2",
              'set title "one extra client\'s round trip while they are held"', 'set ylabel "p99 ms"',
              "plot " + ", ".join(f'"{files[n]}" using 1:3 with linespoints title "{n}"' for n in names),
              "unset multiplot"]
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=False)


def main():
    for exe in ("server.exe", "asio_chat.exe", "skeleton_echo.exe", "holdload"):
        if not os.path.exists(os.path.join(BUILD, exe)):
            sys.exit(f"build/{exe} is missing: run `make bench-hold`")
    started = time.strftime("%Y-%m-%d %H:%M")
    rows = []
    for conns, ramp in RUNS:
        for name in SERVERS:
            if ONLY and name != ONLY:
                continue
            row = measure(name, conns, ramp)
            rows.append(row)
            print(f"  hold {conns:>6} ramp {ramp:>6} {name:<9} served {number(row, 'served')} lost {number(row, 'lost')} "
                  f"accepts/s {number(row, 'accept_per_s')} bytes/conn {number(row, 'bytes_per_conn')} "
                  f"(stats {number(row, 'conn_bytes')}, wineserver {number(row, 'wineserver_bytes_per_conn')}) "
                  f"broadcast max {number(row, 'broadcast_max_ms')} ms ping p50/p99 {number(row, 'ping_p50_ms', 2)}/"
                  f"{number(row, 'ping_p99_ms', 2)} ms", flush=True)
    table = render(rows, started)
    print("\n" + table)
    if not ONLY and not os.environ.get("BENCH_HOLD_RUNS"):
        write_between("<!-- make bench-hold: table -->\n", "<!-- make bench-hold: end -->", table)
        chart(rows)


if __name__ == "__main__":
    main()
