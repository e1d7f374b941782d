"""Abuse that is valid traffic, on the real server: floods are paced, not amplified and not
dropped; dead peers are found by keepalive; one address cannot take every slot. Nothing here
asserts a time: lines, drops and slots are counted."""
import re
import selectors
import socket
import subprocess
import threading
import time
import uuid

import pytest

from tests.harness import ON_WINDOWS, Conn, Reader



# ---- Input pacing ----------------------------------------------------------------------------------

def test_a_flooder_is_slowed_down_not_dropped_and_loses_nothing(start_server):
    server = start_server("--line-rate", "20", "--line-burst", "10")
    flooder, canary = server.connect(timeout=60), server.connect()
    nick = flooder.read_line().split()[2].rstrip(",")
    canary.read_line()
    echoes = Reader(flooder, lambda l: l == f"{nick}: flood 199")
    flooder.send(b"".join(f"flood {i}\r\n".encode() for i in range(200)))  # ten seconds of its budget
    # Someone else is not delayed: the canary is answered while the flood is still being paced.
    assert canary.command("/ping canary", "PONG") == "PONG canary"
    stats = canary.stats()
    assert stats["throttled"] >= 1 and stats["line_rate"] == 20 and stats["line_burst"] == 10
    assert f"{nick}: flood 199" not in echoes.lines
    echoes.join(timeout=60)
    assert [l for l in echoes.lines if l.startswith(f"{nick}: flood")] == [f"{nick}: flood {i}" for i in range(200)]
    stats = canary.stats()
    assert stats["slow_dropped"] == 0 and stats["throttled_ms"] > 0 and stats["online"] == 2
    assert flooder.command("/ping still here", "PONG") == "PONG still here"  # not disconnected
    flooder.close()
    canary.close()


def test_no_budget_with_line_rate_0(start_server):
    server = start_server("--line-rate", "0")
    conn = server.connect()
    conn.read_line()
    conn.send(b"".join(f"/ping {i}\r\n".encode() for i in range(2000)))
    assert conn.read_until(lambda l: l == "PONG 1999")[-1] == "PONG 1999"
    stats = conn.stats()
    assert stats["throttled"] == 0 and stats["line_rate"] == 0


def test_echo_mode_has_no_budget(start_server):
    server = start_server("--echo", "--line-rate", "1", "--line-burst", "1")
    conn = server.connect()
    conn.send(b"".join(f"echo {i}\n".encode() for i in range(2000)))  # 2,000 lines at one a second: hours
    assert conn.read_until(lambda l: l == "echo 1999")[-1] == "echo 1999"


def test_readers_keep_every_line_of_a_flood_and_none_is_dropped(start_server):
    # One client floods as fast as TCP lets it and reads its own echoes; 200 others read normally.
    server = start_server("--line-rate", "200", "--line-burst", "200", "--quiet")
    flood_lines = 2000
    readers = [server.connect(timeout=120) for _ in range(200)]
    for r in readers:
        r.read_line()
    flooder = server.connect(timeout=120)
    nick = flooder.read_line().split()[2].rstrip(",")
    canary = server.connect()
    canary.read_line()
    echoes = Reader(flooder, lambda l: l == f"{nick}: f{flood_lines - 1}")
    sender = threading.Thread(target=flooder.sock.sendall, daemon=True,
                              args=(b"".join(f"f{i}\r\n".encode() for i in range(flood_lines)),))
    got = {id(r): [] for r in readers}
    selector = selectors.DefaultSelector()
    for r in readers:
        r.sock.setblocking(False)
        selector.register(r.sock, selectors.EVENT_READ, r)
    sender.start()
    pongs, deadline = 0, time.monotonic() + 300
    while any(len(got[id(r)]) < flood_lines for r in readers) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.5):
            r = key.data
            r.buf += r.sock.recv(65536)
            *lines, r.buf = r.buf.split(b"\r\n")
            got[id(r)] += [l.decode() for l in lines if l.startswith(f"{nick}: f".encode())]
        if pongs < 20 and echoes.is_alive():  # the canary, answered all along the flood
            pongs += canary.command(f"/ping {pongs}", "PONG") == f"PONG {pongs}"
    expected = [f"{nick}: f{i}" for i in range(flood_lines)]
    assert all(got[id(r)] == expected for r in readers)  # every line, to each, in order
    assert pongs >= 5
    stats = canary.stats()
    assert stats["slow_dropped"] == 0 and stats["online"] == 202 and stats["throttled"] >= 1
    for conn in readers + [flooder, canary]:
        conn.close()


def test_bots_over_the_budget_say_so_and_see_no_error(start_server, wine):
    server = start_server("--line-rate", "10", "--line-burst", "10")
    proc = wine.run("client.exe", ["--bots", "2", "--rate", "20", "--duration", "3", "--mix", "ping", "127.0.0.1",
                                   str(server.port)], capture_output=True, timeout=120)
    output = proc.stdout.decode()
    assert proc.returncode == 0, output[-2000:]
    assert re.search(r"server's input budget\s+10 lines/s a connection \(burst 10\); these bots send 20/s", output)
    assert re.search(r"^RESULT .* errors=0 ", output, re.M)


# ---- Per-address limits ----------------------------------------------------------------------------

def connect_from(server, source):
    sock = socket.socket()
    sock.bind((source, 0))
    sock.settimeout(20)
    sock.connect(("127.0.0.1", server.port))
    conn = Conn.__new__(Conn)
    conn.sock, conn.buf = sock, b""
    return conn


def test_one_address_cannot_take_more_than_its_share(start_server):
    server = start_server("--max-per-ip", "3")
    mine = [connect_from(server, "127.0.0.2") for _ in range(3)]
    assert all(c.read_line().startswith("* welcome") for c in mine)
    with connect_from(server, "127.0.0.2") as fourth:
        assert fourth.read_line() == "ERR too many connections from your address"
        assert fourth.read_to_eof() == b""  # a graceful close
    others = [connect_from(server, "127.0.0.3") for _ in range(3)]  # another address is not affected
    assert all(c.read_line().startswith("* welcome") for c in others)
    assert server.wait_for_line(lambda l: "reason=too many connections from the address" in l)
    mine.pop().close()
    stats = server.wait_for_stats(lambda s: s["online"] == 6)  # 2 + 3 + the probe
    assert stats["refused_per_ip"] == 1
    deadline = time.monotonic() + 20
    while True:  # its share frees once the server has seen the close
        again = connect_from(server, "127.0.0.2")
        line = again.read_line()
        if line.startswith("* welcome") or time.monotonic() > deadline:
            break
        again.close()
        time.sleep(0.1)
    assert line.startswith("* welcome")
    for c in mine + others + [again]:
        c.close()


# ---- Options ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--line-rate", "-1"], "--line-rate -1: expected a number from 0 to"),
    (["--line-rate", "fast"], "--line-rate fast: expected a number"),
    (["--line-burst", "0"], "--line-burst 0: expected a number from 1 to"),
    (["--max-per-ip", "0"], "--max-per-ip 0: expected a number from 1 to"),
    (["--keepalive", "-5"], "--keepalive -5: expected a number from 0 to"),
    (["--keepalive"], "--keepalive needs a value"),
])
def test_new_options_refuse_bad_values(wine, args, message):
    result = wine.run("server.exe", args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_help_states_the_default_budget(wine):
    result = wine.run("server.exe", ["--help"], capture_output=True, text=True, timeout=60)
    assert "--line-rate N    lines a second a client may send, sustained (default 20; 0: no limit)" in result.stdout
    assert "(default 60)" in result.stdout and "--keepalive S" in result.stdout


# ---- Dead peers --------------------------------------------------------------------------------------

class Namespace:
    """A network namespace of the test's own with a veth pair to this one: addresses only on that
    pair, nothing routed anywhere else."""

    def __init__(self):
        tag = uuid.uuid4().hex[:6]
        self.name, self.outside, self.inside = f"iocp{tag}", f"io{tag}a", f"io{tag}b"
        octet = int(tag[:2], 16) % 200 + 20
        self.server_ip, self.client_ip = f"10.{octet}.77.1", f"10.{octet}.77.2"
        steps = [["ip", "netns", "add", self.name],
                 ["ip", "link", "add", self.outside, "type", "veth", "peer", "name", self.inside],
                 ["ip", "link", "set", self.inside, "netns", self.name],
                 ["ip", "addr", "add", self.server_ip + "/30", "dev", self.outside],
                 ["ip", "link", "set", self.outside, "up"],
                 ["ip", "netns", "exec", self.name, "ip", "addr", "add", self.client_ip + "/30", "dev", self.inside],
                 ["ip", "netns", "exec", self.name, "ip", "link", "set", self.inside, "up"]]
        for step in steps:
            result = subprocess.run(step, capture_output=True, text=True)
            if result.returncode != 0:
                self.close()
                raise OSError(f"{' '.join(step)}: {result.stderr.strip()}")

    def run(self, args, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.name] + args, **kw)

    def unplug(self):
        """The client's link goes down: it vanishes without FIN or RST."""
        subprocess.run(["ip", "netns", "exec", self.name, "ip", "link", "set", self.inside, "down"], check=True)

    def close(self):
        subprocess.run(["ip", "link", "del", self.outside], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


CLIENT = """
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=20)
s.recv(1000)
print("connected", s.getsockname()[1], flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(ON_WINDOWS, reason="network namespaces are Linux's")
def test_a_peer_that_vanishes_is_closed_by_keepalive_and_its_slot_freed(start_server):
    try:
        ns = Namespace()
    except OSError as e:
        pytest.skip(f"cannot make a network namespace here ({e})")
    client = None
    try:
        server = start_server("--bind", "0.0.0.0", "--keepalive", "2")  # probed after 2 s, then every 1 s
        client = ns.run(["python3", "-c", CLIENT, ns.server_ip, str(server.port)], stdout=subprocess.PIPE, text=True)
        port = client.stdout.readline().split()[1]
        assert server.wait_for_line(lambda l: l.startswith("connect") and f"{ns.client_ip}:{port}" in l)
        assert server.stats()["online"] == 2
        ns.unplug()
        started = time.monotonic()
        line = server.wait_for_line(lambda l: l.startswith("disconnect") and f"{ns.client_ip}:{port}" in l, timeout=120)
        print(f"closed {time.monotonic() - started:.1f} s after the link went down: {line}")
        assert "reason=keepalive timeout" in line
        stats = server.wait_for_stats(lambda s: s["online"] == 1)
        assert stats["online"] == 1 and stats["keepalive_closed"] == 1
    finally:
        if client:
            client.kill()
        ns.close()
