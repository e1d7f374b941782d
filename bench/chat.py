#!/usr/bin/env python3
"""make bench-chat (python3 -m bench.chat): the job the server exists for, chat fan-out, measured
against an Asio chat server written the way Asio's own chat example is (bench/peers/asio_chat.cpp).

Capacity: N bots in one room, every bot chatting at a rate that steps up for a fixed time per
step; each bot times its own line's return (the broadcast includes the sender) and checks every
other bot's lines (client.exe --mix chat). A server's capacity is its highest step with the own-line
p99 within the limit and no error. Broadcast: 10,000 connected, one speaks; the time until each of
the 10,000 has the line (a burst of 10: its last line). Servers run with their own wineserver on
core 0, the load on core 1, as in bench/run.py; server.exe runs with --line-rate 0 (a capacity
test must not measure the input budget). Figures go to stdout, bench/results.md (between the chat
markers) and bench/chat.png.
"""
import os
import re
import subprocess
import sys
import time

from bench.run import (LOAD_CPU, SERVER_CPU, PinnedServer, busy_percent, core_ticks, output_of, platform_line,
                       tagged_fields, write_between)
from tests.harness import BUILD, ROOT, Conn, Wine, free_port

ONLY = os.environ.get("BENCH_ONLY", "")  # capacity, broadcast: one part alone
STEP_S = int(os.environ.get("BENCH_STEP_S", "10"))
SERVERS = {
    "ours": lambda port: ["server.exe", "--quiet", "--line-rate", "0", "--bind", "127.0.0.1", "--port", str(port)],
    "asio": lambda port: ["asio_chat.exe", str(port)],
}
# BENCH_BASELINE=path/to/an/older/server.exe adds it as "baseline", run the way "ours" is: how a
# change is judged (as in bench/run.py).
BASELINE = os.environ.get("BENCH_BASELINE", "")
if BASELINE:
    SERVERS["baseline"] = lambda port: [os.path.abspath(BASELINE), "--quiet", "--line-rate", "0", "--bind", "127.0.0.1",
                                        "--port", str(port)]
# (bots, rates each step in lines a second per bot, the own-line p99 limit in ms, the load). At
# N bots a rate R offers N * R lines a second and N * N * R deliveries. The loads: client.exe
# under Wine, and build/chatload, the same bots (bots.h) on native epoll (bench/native): under
# Wine a receive costs client.exe about as much as the server's send, so at 1,000 bots client.exe's
# own pass over a line's 1,000 receives is half the latency it reports. Both are run there.
CAPACITY = [
    (100, [0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200], 100, "client.exe"),
    (1000, [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1], 250, "chatload"),
    (1000, [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1], 250, "client.exe"),
]
BROADCAST_BOTS, BROADCAST_EVERY_S, BROADCASTS = 10000, 2, 5
BROADCAST_LOAD = "chatload"  # client.exe's 10,000 receives would take as long as the server's sends
PROGRESS = re.compile(r"^t=(\d+)s connected=(\d+) failed=\d+ sent/s=(\d+) recv/s=(\d+)")


def load(tool, args, port, wine, timeout, on_progress=None):
    """client.exe (under Wine) or chatload (native), pinned to LOAD_CPU: the RESULT fields and
    the progress lines (t, connected, sent/s, recv/s)."""
    if tool == "client.exe":
        command, env = wine.command("client.exe", args + ["127.0.0.1", str(port)]), wine.env
    else:
        command, env = ["taskset", "-c", LOAD_CPU, os.path.join(BUILD, "chatload")] + args + ["127.0.0.1", str(port)], None
    progress = []

    def on_line(line):
        match = PROGRESS.match(line)
        if match:
            progress.append(tuple(int(x) for x in match.groups()))
            if on_progress:
                on_progress()

    text = output_of(command, env, timeout, on_line)
    fields = tagged_fields(text, "RESULT")
    if not fields:
        sys.stderr.write(f"{tool} gave no RESULT:\n" + text[-2000:])
        fields["errors"] = float("nan")
    return fields, progress


def server_stats(port):
    """The server's /stats counters (ours only), or {} when it does not have them."""
    try:
        with Conn(port, timeout=10) as conn:
            conn.read_line()  # the welcome
            line = conn.command("/stats", "STATS")
        return {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    except (OSError, ValueError):
        return {}


def capacity_step(server, port, bots, rate, tool, load_wine):
    """One step: every bot chats at `rate` for STEP_S seconds, all starting once the whole room
    is in. Deliveries/s and the core load are taken over the steady seconds (all in, not the
    first or the last second)."""
    cores = {}

    def sample():
        ticks = core_ticks()
        now = {"server": ticks.get(SERVER_CPU, (0, 0)), "load": ticks.get(LOAD_CPU, (0, 0))}
        cores.setdefault("first", now)
        cores["last"] = now

    before = server_stats(port)
    args = ["--bots", str(bots), "--ramp", "2000", "--mix", "chat", "--speakers", str(bots), "--rate", f"{rate:g}",
            "--duration", str(STEP_S)]
    fields, progress = load(tool, args, port, load_wine, STEP_S + 90, on_progress=sample)
    after = server_stats(port)
    sending = [i for i, p in enumerate(progress) if p[1] == bots and p[2] > 0]
    steady = progress[sending[0] + 1:sending[-1]] if sending else []  # the whole seconds of chat
    row = {"server": server, "bots": bots, "rate": rate, "load": tool, "offered_lines": bots * rate,
           "offered": bots * bots * rate,
           "deliveries": sum(p[3] for p in steady) / len(steady) if steady else float("nan"),
           "p50": fields.get("p50_ms", float("nan")), "p99": fields.get("p99_ms", float("nan")),
           "errors": fields.get("errors", float("nan")) + fields.get("failed", 0),
           "server_busy": busy_percent(cores["first"]["server"], cores["last"]["server"]) if cores else float("nan"),
           "load_busy": busy_percent(cores["first"]["load"], cores["last"]["load"]) if cores else float("nan")}
    row.update(fan_out_costs(before, after))
    return row


def fan_out_costs(before, after):
    """From two /stats of server.exe: lines per WSASend, sends per loop turn, and the time a turn
    takes (its own work, not its wait)."""
    if not before or not after or "turns" not in after:
        return {}
    d = {k: after[k] - before.get(k, 0) for k in after}
    return {"lines_per_send": d["lines_out"] / d["send_calls"] if d["send_calls"] else float("nan"),
            "sends_per_turn": d["send_calls"] / d["turns"] if d["turns"] else float("nan"),
            "turn_ms": d["turn_us"] / d["turns"] / 1000 if d["turns"] else float("nan"),
            # what a WSASend costs, and how much of a turn is neither a send nor a receive
            "send_us": d["send_us"] / d["send_calls"] if d["send_calls"] else float("nan"),
            "recv_us": d["recv_us"] / d["recv_calls"] if d["recv_calls"] else float("nan"),
            "other_share": 1 - (d["send_us"] + d["recv_us"]) / d["turn_us"] if d["turn_us"] else float("nan"),
            "turn_max_ms": after.get("turn_max_us", 0) / 1000}


def run_capacity(load_wine):
    """Every server, both crowd sizes, rates stepping up until two steps are overloaded."""
    rows = []
    for bots, rates, limit, tool in CAPACITY:
        for name, command in SERVERS.items():
            port = free_port()
            server = PinnedServer(command(port), Wine("bench-server", cpu=SERVER_CPU))
            try:
                misses = 0
                for rate in rates:
                    row = capacity_step(name, port, bots, rate, tool, load_wine)
                    row["limit"] = limit
                    rows.append(row)
                    print(f"  chat {bots:>5} bots {tool:<10} {name:<5} {rate:>7g}/s each: offered {row['offered']:>10.0f} "
                          f"delivered {row['deliveries']:>10.0f}/s p50 {row['p50']:.1f} p99 {row['p99']:.1f} ms "
                          f"errors {row['errors']:.0f} cores {row['server_busy']:.0f}%/{row['load_busy']:.0f}% "
                          f"{costs(row)}",
                          flush=True)
                    misses = misses + 1 if overloaded(row) else 0
                    if misses == 2:
                        break
            finally:
                server.stop()
    return rows


def costs(row):
    """server.exe's fan-out counters for a step, as text ('' for a server without them)."""
    if "turn_ms" not in row:
        return ""
    return (f"lines/send {row['lines_per_send']:.1f} sends/turn {row['sends_per_turn']:.0f} turn {row['turn_ms']:.2f} ms "
            f"(WSASend {row['send_us']:.0f} us, WSARecv {row['recv_us']:.0f} us, rest {100 * row['other_share']:.0f} %)")


def overloaded(row):
    """Past what the server can carry: it delivers well below the offered load, or its p99 is far
    past the limit (a queue growing). Two such steps in a row end the stepping."""
    return not row["deliveries"] >= 0.9 * row["offered"] or row["p99"] > 5 * row["limit"] or row["errors"] > 0


def within(row):
    return row["p99"] <= row["limit"] and row["errors"] == 0


def run_broadcast(load_wine):
    """10,000 connected, bot 0 says a line every BROADCAST_EVERY_S seconds BROADCASTS times, each
    bot times it from sending to hearing; then the same with bursts of 10 lines."""
    rows = []
    for burst in (1, 10):
        for name, command in SERVERS.items():
            port = free_port()
            server = PinnedServer(command(port), Wine("bench-server", cpu=SERVER_CPU))
            try:
                args = ["--bots", str(BROADCAST_BOTS), "--ramp", "500", "--mix", "chat", "--speakers", "1",
                        "--rate", f"{1 / BROADCAST_EVERY_S:g}", "--burst", str(burst),
                        "--duration", str(BROADCAST_EVERY_S * BROADCASTS)]
                fields, _ = load(BROADCAST_LOAD, args, port, load_wine, 300)
                expected = fields.get("sent", 0) * (BROADCAST_BOTS - 1)
                row = {"server": name, "burst": burst, "sent": fields.get("sent", 0),
                       "heard": fields.get("heard", 0), "expected": expected,
                       "p50": fields.get("heard_p50_ms", float("nan")), "p99": fields.get("heard_p99_ms", float("nan")),
                       "max": fields.get("heard_max_ms", float("nan")),
                       "errors": fields.get("errors", float("nan")) + fields.get("failed", 0)}
                rows.append(row)
                print(f"  broadcast to {BROADCAST_BOTS} {name:<5} burst {burst:>2}: heard {row['heard']:.0f} of "
                      f"{expected:.0f}, p50 {row['p50']:.0f} p99 {row['p99']:.0f} max {row['max']:.0f} ms, "
                      f"errors {row['errors']:.0f}", flush=True)
            finally:
                server.stop()
    return rows


def capacity(rows, server, bots, tool):
    """The highest step within the limit: its row, or None."""
    good = [r for r in rows if r["server"] == server and r["bots"] == bots and r["load"] == tool and within(r)]
    return max(good, key=lambda r: r["deliveries"]) if good else None


def number(value, digits=0):
    return "-" if value != value else f"{value:,.{digits}f}"


def render_capacity(rows):
    lines = []
    for bots, rates, limit, tool in CAPACITY:
        lines += ["", f"Chat capacity, {bots} bots in one room, load {tool}, {STEP_S} s a step (own-line p99 limit "
                  f"{limit} ms):", "",
                  "| lines/s a bot | offered lines/s | offered deliveries/s | ours delivered/s | ours p50 / p99 ms | ours errors | "
                  "ours core % | lines per send | sends per turn | turn ms | asio delivered/s | asio p50 / p99 ms | "
                  "asio errors | asio core % |" + (" baseline delivered/s | baseline p50 / p99 ms | baseline errors | "
                                                   "baseline core % |" if BASELINE else ""),
                  "|" + " ---: |" * (18 if BASELINE else 14)]
        for rate in rates:
            ours = next((r for r in rows if r["server"] == "ours" and r["bots"] == bots and r["load"] == tool and
                         r["rate"] == rate), None)
            asio = next((r for r in rows if r["server"] == "asio" and r["bots"] == bots and r["load"] == tool and
                         r["rate"] == rate), None)
            baseline = next((r for r in rows if r["server"] == "baseline" and r["bots"] == bots and r["load"] == tool and
                             r["rate"] == rate), None)
            if not ours and not asio:
                continue
            cells = [f"{rate:g}", number(bots * rate, 1 if bots * rate < 10 else 0), number(bots * bots * rate)]
            for r, extra in ((ours, True), (asio, False)) + (((baseline, False),) if BASELINE else ()):
                if r:
                    cells += [number(r["deliveries"]), f"{r['p50']:.1f} / {r['p99']:.1f}", number(r["errors"]),
                              number(r["server_busy"])]
                    if extra:
                        cells += [number(r.get("lines_per_send", float("nan")), 1),
                                  number(r.get("sends_per_turn", float("nan"))), number(r.get("turn_ms", float("nan")), 2)]
                else:
                    cells += ["not run (overloaded at two steps before)"] + [""] * (6 if extra else 3)
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_goals(rows, broadcast):
    lines = ["", "| goal | measured | met |", "| --- | --- | --- |"]
    goals = ((100, 1_000_000, 50, 100, "client.exe"), (1000, 500_000, 20, 250, "chatload"),
             (1000, 500_000, 20, 250, "client.exe"))
    for bots, floor, factor, limit, tool in goals:
        ours, asio = capacity(rows, "ours", bots, tool), capacity(rows, "asio", bots, tool)
        if not any(r["bots"] == bots and r["load"] == tool for r in rows):
            continue
        if not ours:
            lines.append(f"| {bots} bots ({tool}): {floor:,} deliveries/s, {factor}x Asio, p99 <= {limit} ms | "
                         "no step within the limit | no |")
            continue
        ratio = ours["deliveries"] / asio["deliveries"] if asio else float("inf")
        met = ours["deliveries"] >= floor and ratio >= factor
        lines.append(f"| {bots} bots ({tool}): {floor:,} deliveries/s and {factor}x Asio within p99 <= {limit} ms | "
                     f"{number(ours['deliveries'])}/s (p99 {ours['p99']:.0f} ms) vs Asio "
                     f"{number(asio['deliveries']) if asio else 'none within the limit'}/s: {ratio:.1f}x | "
                     f"{'yes' if met else 'no'} |")
    for burst in (1, 10):
        ours = next((r for r in broadcast if r["server"] == "ours" and r["burst"] == burst), None)
        asio = next((r for r in broadcast if r["server"] == "asio" and r["burst"] == burst), None)
        if ours and asio:
            met = ours["max"] <= asio["max"] / 2 and ours["heard"] == ours["expected"] and ours["errors"] == 0
            lines.append(f"| broadcast to {BROADCAST_BOTS:,}, {burst} line{'s' if burst > 1 else ''}: all have it in "
                         f"at most half Asio's time | {ours['max']:.0f} ms vs {asio['max']:.0f} ms | {'yes' if met else 'no'} |")
    return lines


def render_broadcast(rows):
    lines = ["", f"Broadcast (load {BROADCAST_LOAD}): {BROADCAST_BOTS:,} connected, one says a line every {BROADCAST_EVERY_S} s "
             f"({BROADCASTS} times); from sending to each of the others hearing it (a burst: its last line):", "",
             "| server | lines at once | heard / expected | p50 ms | p99 ms | max ms | errors |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['server']} | {r['burst']} | {number(r['heard'])} / {number(r['expected'])} | "
                     f"{r['p50']:.0f} | {r['p99']:.0f} | {r['max']:.0f} | {number(r['errors'])} |")
    return lines


def write_section(text):
    """Puts the chat tables between their markers in bench/results.md."""
    write_between("<!-- make bench-chat: tables -->\n", "<!-- make bench-chat: end -->", text)


def chart(rows):
    """Deliveries/s and own-line p99 against the offered deliveries/s, both servers, both crowds
    (gnuplot, log scales: the steps span four decades)."""
    if not rows or subprocess.run(["which", "gnuplot"], capture_output=True).returncode != 0:
        print("gnuplot is missing or nothing was measured: no chart")
        return
    plots = []
    for bots, _, limit, tool in CAPACITY:
        for name in SERVERS:
            data = os.path.join(BUILD, f"chat-{name}-{bots}-{tool}.dat")
            with open(data, "w") as f:
                for r in rows:
                    if r["server"] == name and r["bots"] == bots and r["load"] == tool and r["deliveries"] == r["deliveries"]:
                        f.write(f"{r['offered']} {r['deliveries']} {max(r['p99'], 0.01)}\n")
            plots.append((bots, f"{name} ({tool})", data, limit))
    out = os.path.join(ROOT, "bench", "chat.png")
    script = ['set terminal pngcairo size 1100,760 font ",10"', f'set output "{out}"',
              "set multiplot layout 2,2 title \"Chat fan-out under Wine: server.exe and an Asio chat server "
              "(the example's design), one room\"", "set logscale xy", "set grid", "set key top left",
              "set xlabel \"offered deliveries/s (bots x bots x lines/s a bot)\""]
    for what, column, ylabel in (("delivered", 2, "deliveries/s"), ("p99", 3, "own-line p99 ms")):
        for bots, limit in ((100, 100), (1000, 250)):
            series = [p for p in plots if p[0] == bots]
            script.append(f'set title "{bots} bots: {what}"')
            script.append(f'set ylabel "{ylabel}"')
            parts = [f'"{data}" using 1:{column} with linespoints title "{name}"' for _, name, data, _ in series]
            if column == 2:
                parts.append("x title \"offered\" dashtype 2")
            else:
                parts.append(f"{limit} title \"limit {limit} ms\" dashtype 2")
            script.append("plot " + ", ".join(parts))
    script.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(script), text=True, check=False)


def main():
    for exe in ("server.exe", "client.exe", "asio_chat.exe", "chatload"):
        if not os.path.exists(os.path.join(BUILD, exe)):
            sys.exit(f"build/{exe} is missing: run `make bench-chat`")
    started = time.strftime("%Y-%m-%d %H:%M")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    load_wine = Wine("bench-load", cpu=LOAD_CPU).start()
    try:
        rows = run_capacity(load_wine) if ONLY in ("", "capacity") else []
        broadcast = run_broadcast(load_wine) if ONLY in ("", "broadcast") else []
    finally:
        load_wine.stop()
    text = [f"Chat run {started} of commit {commit}{' (with uncommitted changes)' if dirty else ''} on "
            f"{os.cpu_count()} cores, {platform_line()}; each server and its own wineserver on core "
            f"{SERVER_CPU}, client.exe on core {LOAD_CPU}."]
    text += render_goals(rows, broadcast) + render_capacity(rows) + render_broadcast(broadcast)
    table = "\n".join(text) + "\n"
    print("\n" + table)
    if ONLY == "":
        write_section(table)
        chart(rows)


if __name__ == "__main__":
    main()
