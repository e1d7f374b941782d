"""Hostile and broken clients. After each case the same invariants hold: the server is alive, a
fresh client is welcomed and answered, `online` is back where it was, and `sockets=` in /stats
is back to its baseline (every slot free, nothing leaked)."""
import random
import socket
import threading
import time

import pytest

from tests.harness import Conn, Reader
from test_server_core import BASE_SOCKETS

IAC, SB = 255, 250


@pytest.fixture
def server(start_server):
    """These cases measure the framing and the socket-level defences at full speed: the input
    budget (--line-rate), which would slow every flood here down, has tests of its own
    (test_abuse.py)."""
    return start_server("--line-rate", "0")


def assert_healthy(server, online=0, timeout=30):
    """The invariants; `online` is how many clients of the test are still connected."""
    deadline = time.monotonic() + timeout
    while True:
        with server.connect() as probe:
            assert probe.read_line().startswith("* welcome")
            assert probe.command("/ping healthy", "PONG") == "PONG healthy"
            stats = probe.stats()
        settled = stats["online"] == online + 1 and stats["sockets"] == BASE_SOCKETS + online + 1
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert stats["online"] == online + 1
    assert stats["sockets"] == BASE_SOCKETS + online + 1


def drain(conn):
    """Reads everything a connection is sent, in the background, until it closes."""
    def run():
        try:
            while conn.sock.recv(1 << 16):
                pass
        except OSError:
            pass
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def watcher(server):
    """A well-behaved client that records every line it is sent."""
    conn = server.connect()
    conn.read_line()
    reader = Reader(conn)
    yield reader
    conn.close()


def sync(server, reader, token):
    """Waits until `reader` has everything sent before now (a /ping of its own comes back)."""
    reader.conn.send_line("/ping " + token)
    deadline = time.monotonic() + 60
    while ("PONG " + token) not in reader.lines:
        assert time.monotonic() < deadline and reader.error is None, "watcher stopped receiving"
        time.sleep(0.05)


@pytest.mark.parametrize("garbage", ["random", "endless_subnegotiation", "long_lines", "nul_and_bad_utf8"])
def test_bad_bytes_cost_nothing_else(server, watcher, garbage):
    rng = random.Random(7)
    data = {
        "random": lambda: bytes(rng.getrandbits(8) for _ in range(1 << 20)),
        "endless_subnegotiation": lambda: bytes([IAC, SB]) + b"\x18" * (1 << 20),
        "long_lines": lambda: (b"L" * 600 + b"\r\n") * 100_000,
        "nul_and_bad_utf8": lambda: (b"\x00\x00a\x00\xc3\x28\xff\xfe\xed\xa0\x80 ok\r\n") * 1000,
    }[garbage]()
    with server.connect(timeout=120) as hostile:
        done = drain(hostile)
        try:
            hostile.send(data)
            hostile.send(b"\r\n")
        except OSError:
            pass  # dropped as a slow consumer of its own replies: allowed, the others are what count
        sync(server, watcher, "after-" + garbage)
        try:  # the flood's own echoes may have made it a slow consumer, dropped: that is fine
            hostile.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        done.join(timeout=120)
    assert watcher.error is None
    for line in watcher.lines:
        assert "\x1b" not in line and not any(ord(c) < 32 for c in line)
    assert_healthy(server, online=1)


def test_escape_sequences_never_reach_another_user(server, watcher):
    with server.connect() as hostile:
        hostile.read_line()
        hostile.send(b"\x1b[2J\x1b[31mred\x1b]0;title\x07 \x9b31m\r\n")
        sync(server, watcher, "esc")
    chat = [l for l in watcher.lines if ": " in l and "red" in l]
    assert len(chat) == 1 and "\x1b" not in chat[0] and "\x07" not in chat[0]
    assert_healthy(server, online=1)


def test_two_thousand_idle_connections_beside_a_working_client(server, watcher):
    idle = [server.connect(timeout=60) for _ in range(2000)]
    for i in range(20):
        sync(server, watcher, f"busy-{i}")
    for conn in idle:
        conn.close()
    assert_healthy(server, online=1)


def test_slow_loris_connections_do_not_hold_up_others(server, watcher):
    loris = [server.connect(timeout=60) for _ in range(500)]
    for second in range(5):
        for conn in loris:
            conn.send(b"x")  # one byte a second of a line that never ends
        sync(server, watcher, f"loris-{second}")
        time.sleep(1)
    for conn in loris:
        conn.close()
    assert_healthy(server, online=1)


def test_connect_flood_of_three_times_max_clients(start_server):
    server = start_server("--max-clients", "100")
    flood = [server.connect(timeout=60) for _ in range(300)]
    first = [conn.read_line() for conn in flood]
    welcomed = [c for c, line in zip(flood, first) if line.startswith("* welcome")]
    refused = [c for c, line in zip(flood, first) if line == "ERR server full"]
    assert len(welcomed) == 100 and len(refused) == 200
    for conn in refused:
        assert conn.read_to_eof() == b""
    for conn in flood:
        conn.close()
    deadline = time.monotonic() + 30
    while True:
        with server.connect() as probe:
            line = probe.read_line()
            if line.startswith("* welcome"):
                stats = probe.stats()
                # A client leaves the moment its close is seen; its socket closes once what was
                # queued for it has gone or failed, a moment later.
                if (stats["online"] == 1 and stats["sockets"] == BASE_SOCKETS + 1) or time.monotonic() > deadline:
                    break
        time.sleep(0.2)
    assert stats["online"] == 1 and stats["sockets"] == BASE_SOCKETS + 1


def test_reset_while_output_is_queued(server, watcher):
    for _ in range(20):
        conn = server.connect()
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        conn.send(b"/board\r\n" * 2000)  # far more output than it will ever read
        time.sleep(0.05)
        conn.reset()
    sync(server, watcher, "after-resets")
    assert_healthy(server, online=1)


def test_half_closed_client_still_gets_its_replies(server):
    for i in range(20):
        conn = server.connect()
        conn.read_line()
        conn.send(f"/ping half-{i}\r\n/who\r\n".encode())
        conn.sock.shutdown(socket.SHUT_WR)
        lines = conn.read_to_eof().decode().split("\r\n")
        assert f"PONG half-{i}" in lines
        assert any(l.startswith("* ") and " online: " in l for l in lines)
        conn.close()
    assert_healthy(server)


def test_killed_server_restarts_on_the_same_port_at_once(start_server):
    server = start_server()
    conns = [server.connect() for _ in range(20)]
    for conn in conns:
        conn.read_line()
        conn.send_line("/ping before the crash")
    server.kill()
    # What Windows promises (README, "Restarting on the same port"): a port bound with
    # SO_EXCLUSIVEADDRUSE can be bound again once the process is gone and no connection accepted on
    # it exists any more, TIME_WAIT included. Gone: its listener is closed (under Wine, by the
    # wineserver, a moment after the kill). No connection left: the clients hang up with a reset,
    # which leaves no TIME_WAIT on either side (a graceful close after the server's would leave
    # one on the server's side, and Windows would refuse the bind for minutes). They do not wait to
    # see their connections end first: under Wine a socket the kill caught mid-operation is never
    # closed by the wineserver (README, "Wine notes"), though the listener always is.
    server.wait_for_listener_closed()
    for conn in conns:
        conn.reset()
    # Then the restart binds at the first attempt (a Server given its port is never retried).
    again = start_server(port=server.port)
    with Conn(again.port) as conn:
        assert conn.read_line().startswith("* welcome")


def test_ctrl_c_in_the_middle_of_a_flood(server):
    quiet = [server.connect() for _ in range(20)]
    flooders = [server.connect() for _ in range(10)]
    readers = [Reader(c, lambda l: l == "* server shutting down") for c in quiet + flooders]
    stop = threading.Event()

    def flood_lines(conn):  # a stream of commands, as fast as the socket takes them
        try:
            while not stop.is_set():
                conn.send(b"/ping flood\r\n" * 100)
        except OSError:
            pass

    def flood_connects():  # and a stream of connections
        while not stop.is_set():
            try:
                socket.create_connection(("127.0.0.1", server.port), timeout=5).close()
            except OSError:
                pass

    threads = [threading.Thread(target=flood_lines, args=(c,), daemon=True) for c in flooders]
    threads.append(threading.Thread(target=flood_connects, daemon=True))
    for t in threads:
        t.start()
    time.sleep(2)
    server.interrupt()
    assert server.wait() == 0
    stop.set()
    for reader in readers:
        reader.join(timeout=30)
    for reader in readers[:len(quiet)]:
        assert reader.lines[-1] == "* server shutting down"
        assert reader.conn.read_to_eof() == b""
    assert " sockets=0 " in server.wait_for_line(lambda l: l.startswith("stopped:"))


def test_a_bot_run_killed_in_the_middle_leaves_nothing_behind(server, spawn):
    bots = spawn("client.exe", ["--bots", "100", "--duration", "30", "--rate", "5",
                                "--mix", "ping,move,chat", "127.0.0.1", str(server.port)])
    bots.wait_for_line(lambda l: l.startswith("t=3s"))
    bots.kill()  # every one of its connections vanishes at once, mid-conversation
    assert_healthy(server)
