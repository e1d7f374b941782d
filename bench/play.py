#!/usr/bin/env python3
"""make bench-play (python3 -m bench.play): what one move costs with a crowd of board views.

A member in the board view (/play, play.h) is sent, for each move, only the squares whose glyph
changed for it and the list row of the mover when it is listed, by cursor positioning, then the
cursor back: a few dozen bytes whatever the crowd. This checks that claim and prices the move on
the server's side. For V = 10, 100, 1,000 viewers (each a raw socket that negotiates as Windows
telnet does: IAC DO SGA first, then DO ECHO, DO SGA and WILL NAWS 80x24, then /play), one line
client (the mover, joined first, so every viewer lists it) sends MOVES moves, right and left in
turn; each is sent once every viewer has the one before (its update ends with the cursor back,
ESC [24;1H) and GAP_S has passed. Per V: the bytes each viewer received per move (from its byte
count after the /play paint settled), the time from sending a move to the last viewer having all
of its update (one Python selector loop reads them all: its pass is in the figure), and from the
server's /stats (asked by the mover, before and after) turn_us, send_us, send_calls and bytes_out
per move. The same crowd in the line view (V plain clients that never /play and get `MOVE nick x
y`) is the comparison. Every case gets a fresh server.exe (--line-rate 0 --quiet) with its own
wineserver on core 0; this process is the load, on core 1. The mover's own MOVE line is in the
server's figures (one send and 17 bytes a move), the crowd's per-member bytes are the crowd's.
Figures go to stdout and bench/results.md (between the play markers).
"""
import os
import re
import selectors
import socket
import statistics
import sys
import time

from bench.run import LOAD_CPU, SERVER_CPU, PinnedServer, platform_line, write_between
from tests.harness import BUILD, Conn, Wine, free_port

CROWDS = (10, 100, 1000)
MOVES = 200
GAP_S = 0.02             # after a move reached everyone, before the next
MOVE_TIMEOUT_S = 5       # a move not with everyone by then counts its missing members, and the next goes
MOVES_BUDGET_S = 300     # all the moves of one case
SETUP_TIMEOUT_S = 180    # connecting, negotiating and painting one crowd
BATCH = 50               # connections opened at once, each batch welcomed before the next
IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
ECHO, SGA, NAWS = 1, 3, 31
ANSWERS = {(WILL, ECHO): bytes([IAC, DO, ECHO]), (WILL, SGA): bytes([IAC, DO, SGA]),
           (DO, NAWS): bytes([IAC, WILL, NAWS, IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE])}
CURSOR_BACK = b"\x1b[24;1H"  # the last bytes of a board update: back to the empty typed line
SERVER = lambda port: ["server.exe", "--quiet", "--line-rate", "0", "--bind", "127.0.0.1", "--port", str(port)]


class Member:
    """One crowd member on a non-blocking socket: its byte count, the time of its last receive
    and, for a viewer, the telnet answers until the negotiation is done."""

    def __init__(self, port, viewer):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.viewer, self.end = viewer, CURSOR_BACK if viewer else b"\r\n"
        self.received, self.tail, self.last_at = 0, b"", 0.0
        self.answered, self.pending = set(), b""  # the offers answered; an unfinished command
        if viewer:
            self.sock.send(bytes([IAC, DO, SGA]))  # a telnet command: the server sees a terminal

    def negotiated(self):
        return not self.viewer or {(WILL, ECHO), (DO, NAWS)} <= self.answered

    def read(self, now):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("the server closed a member")
        self.received += len(data)
        self.tail, self.last_at = (self.tail + data)[-len(CURSOR_BACK):], now
        if not self.negotiated():
            self.answer(self.pending + data)

    def answer(self, data):
        """WILL ECHO, WILL SGA and DO NAWS get their yes; any other WILL or DO its no."""
        at = data.find(IAC)
        while at != -1 and at + 2 < len(data):
            verb, option = data[at + 1], data[at + 2]
            if verb in (WILL, DO):
                self.sock.send(ANSWERS.get((verb, option), bytes([IAC, DONT if verb == WILL else WONT, option])))
                self.answered.add((verb, option))
            at = data.find(IAC, at + (3 if verb in (WILL, WONT, DO, DONT) else 2))
        self.pending = data[at:] if at != -1 else b""

    def got(self, mark):
        """All of an update that came after the count `mark`."""
        return self.received > mark and self.tail.endswith(self.end)


def pump(selector, timeout):
    """Reads every member with bytes waiting, for up to `timeout`; the members read."""
    now, read = time.monotonic(), []
    for key, _ in selector.select(timeout):
        key.data.read(now)
        read.append(key.data)
    return read


def pump_until(selector, done, timeout, what):
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        pump(selector, 0.05)


def settle(selector, quiet_s=0.5, timeout=60):
    """Reads until nothing came for `quiet_s`."""
    deadline = time.monotonic() + timeout
    while pump(selector, quiet_s) and time.monotonic() < deadline:
        pass


def stats(mover, selector):
    """The server's counters, asked by the mover; the crowd is read meanwhile."""
    pump(selector, 0)
    return mover.stats()


def join(port, selector, count, viewer):
    """`count` members in, BATCH at a time; the members and how many connects failed."""
    members, failed = [], 0
    deadline = time.monotonic() + SETUP_TIMEOUT_S
    while len(members) + failed < count:
        batch = []
        for _ in range(min(BATCH, count - len(members) - failed)):
            try:
                batch.append(Member(port, viewer))
            except OSError as e:
                failed += 1
                print(f"  connect failed: {e}", file=sys.stderr, flush=True)
        for m in batch:
            selector.register(m.sock, selectors.EVENT_READ, m)
        pump_until(selector, lambda: all(m.received and m.negotiated() for m in batch),
                   deadline - time.monotonic(), f"{len(batch)} welcomes")
        members += batch
    return members, failed


def measure(viewers, size, wine):
    """One case: a fresh server, the mover, `size` members (board or line views), MOVES moves."""
    server = PinnedServer(SERVER(free_port()), wine)
    selector, crowd = selectors.DefaultSelector(), []
    try:
        mover = Conn(server.port, timeout=20)
        nick = re.match(r"\* welcome (\S+),", mover.read_line()).group(1)
        crowd, failed = join(server.port, selector, size, viewers)
        if viewers:
            for m in crowd:
                m.sock.send(b"/play\r\n")
            deadline = time.monotonic() + SETUP_TIMEOUT_S
            while stats(mover, selector)["board_views"] < len(crowd):
                if time.monotonic() > deadline:
                    raise TimeoutError("the crowd did not get its board views")
                pump(selector, 0.2)
        settle(selector)
        mover.send_line("/who")
        who = mover.read_until(lambda line: " online: " in line)[-1]
        x = int(re.search(rf"{nick} \((\d+),", who).group(1))
        directions = ("right", "left") if x < 7 else ("left", "right")
        base = [m.received for m in crowd]
        before = stats(mover, selector)
        latencies, missed, started = [], 0, time.monotonic()
        for i in range(MOVES):
            if time.monotonic() - started > MOVES_BUDGET_S:
                print(f"  out of time after {i} moves", file=sys.stderr, flush=True)
                break
            marks = {m: m.received for m in crowd}
            waiting = set(crowd)
            sent = time.monotonic()
            mover.send_line("/move " + directions[i % 2])
            deadline = sent + MOVE_TIMEOUT_S
            while waiting and time.monotonic() < deadline:
                waiting.difference_update([m for m in pump(selector, 0.05) if m.got(marks[m])])
            missed += len(waiting)
            latencies.append(1000 * (max(m.last_at for m in crowd) - sent))
            end = time.monotonic() + GAP_S
            while time.monotonic() < end:
                pump(selector, max(0, end - time.monotonic()))
        moves = len(latencies)
        settle(selector)
        after = stats(mover, selector)
        mover.close()
        per_member = [(m.received - b) / moves for m, b in zip(crowd, base)]
        d = {k: (after[k] - before[k]) / moves for k in ("turns", "turn_us", "send_us", "send_calls", "bytes_out")}
        latencies.sort()
        return {"view": "board" if viewers else "line", "members": len(crowd), "failed": failed, "moves": moves,
                "missed": missed, "bytes_mean": statistics.mean(per_member), "bytes_max": max(per_member),
                "p50": latencies[len(latencies) // 2], "p99": latencies[int(len(latencies) * 0.99)],
                "max": latencies[-1], "board_views": after["board_views"], **d}
    finally:
        for m in crowd:
            m.sock.close()
        selector.close()
        server.stop()


def render(rows, started):
    lines = [f"Board view run {started} on {os.cpu_count()} cores, {platform_line()}; server.exe --line-rate 0 and its "
             f"wineserver on core {SERVER_CPU}, the crowd (one Python selector loop) on core {LOAD_CPU}; {MOVES} moves "
             "by one line client, each sent once the whole crowd had the one before. Server figures are /stats "
             "deltas per move (the mover's own MOVE line included).", "",
             "| view | members | bytes a member per move: mean / max | last member has it p50 / p99 / max ms | "
             "missed | turns | turn_us | send_us | send_calls | bytes_out |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        failed = f" ({r['failed']} failed to connect)" if r["failed"] else ""
        lines.append(f"| {r['view']} | {r['members']}{failed} | {r['bytes_mean']:.1f} / {r['bytes_max']:.1f} | "
                     f"{r['p50']:.1f} / {r['p99']:.1f} / {r['max']:.1f} | {r['missed']} | {r['turns']:.1f} | "
                     f"{r['turn_us']:,.0f} | {r['send_us']:,.0f} | {r['send_calls']:.1f} | {r['bytes_out']:,.0f} |")
    return "\n".join(lines) + "\n"


def main():
    if not os.path.exists(os.path.join(BUILD, "server.exe")):
        sys.exit("build/server.exe is missing: run `make bench-play`")
    os.sched_setaffinity(0, {int(LOAD_CPU)})
    started = time.strftime("%Y-%m-%d %H:%M")
    wine, rows = Wine("bench-play", cpu=SERVER_CPU), []
    try:
        for size in CROWDS:
            for viewers in (True, False):
                row = measure(viewers, size, wine)
                rows.append(row)
                print(f"  {row['view']:<5} {size:>5}: {row['bytes_mean']:.1f} B/move a member (max "
                      f"{row['bytes_max']:.1f}), last has it p50 {row['p50']:.1f} p99 {row['p99']:.1f} max "
                      f"{row['max']:.1f} ms, missed {row['missed']}, turn_us/move {row['turn_us']:.0f} "
                      f"send_calls/move {row['send_calls']:.1f}", flush=True)
    finally:
        wine.stop()
    table = render(rows, started)
    print("\n" + table)
    write_between("<!-- play -->\n", "<!-- /play -->", table)


if __name__ == "__main__":
    main()
