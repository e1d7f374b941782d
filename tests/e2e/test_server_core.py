"""server.exe's completion-port machinery, end to end: accept pool, slots, full server, receive
errors, send queues and slow consumers, shutdown, options and errors, echo mode, leak counters."""
import os
import random
import socket
import threading
import time

import pytest

from tests.harness import Reader

BASE_SOCKETS = 1 + 64  # the listener and the default pool of posted accepts



def test_hundred_clients_each_get_their_own_echo(start_server):
    server = start_server("--echo")
    conns = [server.connect() for _ in range(100)]
    for i, conn in enumerate(conns):
        conn.send(f"hello from {i}\n")
    for i, conn in enumerate(conns):
        assert conn.read_line() == f"hello from {i}"
        conn.close()


def test_thousand_connections_back_to_back_are_all_welcomed(server):
    conns = [server.connect(timeout=60) for _ in range(1000)]
    for conn in conns:
        assert conn.read_line().startswith("* welcome guest")
    assert server.stats()["online"] == 1001  # and the probe
    for conn in conns:
        conn.close()


def test_server_survives_clients_that_reset(server):
    for _ in range(50):
        conn = server.connect()
        conn.read_line()
        conn.send("/ping before-reset\r\n")
        conn.reset()
    with server.connect() as probe:
        assert probe.read_line().startswith("* welcome")
        assert probe.command("/ping alive", "PONG") == "PONG alive"


def test_churn_leaves_every_slot_free_and_no_socket_open(server):
    rng = random.Random(1234)
    pool, cycles = [], 0
    while cycles < 1500 or pool:
        action = rng.choice(["open", "open", "reset", "half", "close", "ping"]) if cycles < 1500 else "close"
        if action == "open" or not pool:
            if cycles < 1500:
                pool.append(server.connect())
                cycles += 1
            continue
        conn = pool[rng.randrange(len(pool))]
        if action == "reset":
            conn.reset()
            pool.remove(conn)
        elif action == "close":
            conn.close()
            pool.remove(conn)
        elif action == "half":
            conn.send("a half line with no end" * rng.randint(1, 40))
        else:
            conn.send("/ping x\r\n")
    with server.connect() as probe:
        probe.read_line()
        deadline = time.monotonic() + 30
        while True:
            stats = probe.stats()
            if stats["online"] == 1 and stats["sockets"] == BASE_SOCKETS + 1 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert stats["online"] == 1
        assert stats["sockets"] == BASE_SOCKETS + 1
        assert probe.command("/ping healthy", "PONG") == "PONG healthy"


def test_full_server_says_so_and_welcomes_again_when_a_slot_frees(start_server):
    server = start_server("--max-clients", "20")
    welcomed = []
    for _ in range(20):
        conn = server.connect()
        assert conn.read_line().startswith("* welcome")
        welcomed.append(conn)
    for _ in range(5):
        with server.connect() as extra:
            assert extra.read_line() == "ERR server full"
            assert extra.read_to_eof() == b""  # then a graceful close
    welcomed.pop().close()
    deadline = time.monotonic() + 20
    while True:  # the slot frees once the server has seen the close
        conn = server.connect()
        line = conn.read_line()
        if line.startswith("* welcome") or time.monotonic() > deadline:
            break
        conn.close()
        time.sleep(0.1)
    assert line.startswith("* welcome")
    assert welcomed[0].command("/ping still-here", "PONG") == "PONG still-here"


def test_disconnects_are_logged_with_peer_and_reason(server):
    conn = server.connect()
    conn.read_line()
    port = conn.sock.getsockname()[1]
    conn.reset()
    line = server.wait_for_line(lambda l: l.startswith("disconnect") and f":{port} " in l)
    # Wine may report a reset as an orderly close (IOCP-NOTES): either reason is a disconnect.
    assert "reason=reset by peer" in line or "reason=peer closed" in line
    assert "online=" in line and "nick=guest" in line
    with server.connect() as quitter:
        quitter.read_line()
        quitter.send_line("/quit")
        port = quitter.sock.getsockname()[1]
        assert quitter.read_line() == "* bye"
        assert quitter.read_to_eof() == b""
    line = server.wait_for_line(lambda l: l.startswith("disconnect") and f":{port} " in l)
    assert "reason=quit" in line
    connect = server.wait_for_line(lambda l: l.startswith("connect") and f":{port} " in l)
    assert "peer=127.0.0.1:" in connect


def test_slow_consumer_is_dropped_and_everyone_else_gets_every_line(start_server):
    server = start_server("--line-rate", "0")  # 3,000 lines as fast as the readers take them
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and it never reads
    slow.connect(("127.0.0.1", server.port))
    slow_port = slow.getsockname()[1]
    sender, watcher = server.connect(), server.connect()
    watcher.read_until(lambda l: l.startswith("* welcome"))
    sender.read_until(lambda l: l.startswith("* welcome"))
    sender.send_line("/nick sender")
    watcher.read_until(lambda l: l == "* guest1 is now sender" or l.endswith("is now sender"))
    count = 3000
    last = f"sender: line {count - 1:05d} " + "x" * 170
    readers = [Reader(c, lambda l: l == last) for c in (sender, watcher)]
    batch = 100
    for start in range(0, count, batch):  # the readers keep reading; the sender waits for them
        sender.send(b"".join(f"line {i:05d} {'x' * 170}\r\n".encode() for i in range(start, start + batch)))
        wanted = f"sender: line {start + batch - 1:05d} " + "x" * 170
        deadline = time.monotonic() + 60
        while not all(wanted in r.lines for r in readers) and time.monotonic() < deadline:
            time.sleep(0.01)
    for reader in readers:
        reader.join(timeout=120)
        chat = [l for l in reader.lines if l.startswith("sender: ")]
        assert chat == [f"sender: line {i:05d} " + "x" * 170 for i in range(count)]
    line = server.wait_for_line(lambda l: l.startswith("disconnect") and f":{slow_port} " in l)
    assert "reason=slow consumer" in line
    assert any(l.endswith(" left") for l in readers[1].lines)
    assert server.stats()["slow_dropped"] == 1
    slow.close()


def never_reading_client(server):
    """A client with a 4 KiB receive buffer that never reads: the server's sends to it get stuck."""
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", server.port))
    return slow


def flood_until(sender, server, predicate, lines=5000):
    """Sends 180-byte chat lines until a log line matches `predicate`; returns that line."""
    for start in range(0, lines, 50):
        sender.send(b"".join(f"{i:05d} {'x' * 174}\r\n".encode() for i in range(start, start + 50)))
        try:
            return server.wait_for_line(predicate, timeout=0.05)
        except AssertionError:
            pass
    return server.wait_for_line(predicate, timeout=30)


def test_a_dropped_slow_consumer_frees_its_slot(start_server):
    # Two slots: once the slow one is dropped, a newcomer must get its slot, so the dropped
    # client's send and receive, both pending at the close, must have come back.
    server = start_server("--max-clients", "2", "--send-limit", "65536", "--line-rate", "0")
    slow = never_reading_client(server)
    with server.connect() as sender:
        sender.read_line()
        flood_until(sender, server, lambda l: "reason=slow consumer" in l)
        deadline = time.monotonic() + 20
        while True:
            with server.connect() as newcomer:
                line = newcomer.read_line()
            if line.startswith("* welcome") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert line.startswith("* welcome"), line
    slow.close()


def test_ctrl_c_with_a_client_that_never_reads_exits_cleanly(start_server):
    # More than the OS takes for it (a few MiB) is queued for the slow client, under the send limit,
    # so its send is stuck when Ctrl+C comes: after the 2 s flush it is cut off, and every posted
    # operation still comes back before the server exits.
    server = start_server("--send-limit", str(16 << 20), "--line-rate", "0")
    slow = never_reading_client(server)
    with server.connect() as sender:
        sender.read_line()
        last = "guest2: 39999 " + "x" * 174
        reader = Reader(sender, lambda l: l == last)
        for start in range(0, 40000, 500):
            sender.send(b"".join(f"{i:05d} {'x' * 174}\r\n".encode() for i in range(start, start + 500)))
        reader.join(timeout=120)
        assert reader.lines[-1] == last
        server.interrupt()
        assert server.wait() == 0
    assert "still had I/O pending" not in server.output()
    assert " sockets=0 " in server.wait_for_line(lambda l: l.startswith("stopped:"))
    slow.close()


def test_ctrl_c_tells_every_client_then_exits_zero(server):
    conns = []
    for _ in range(50):
        conn = server.connect()
        conn.read_line()
        conns.append(conn)
    server.interrupt()
    for conn in conns:
        rest = conn.read_until(lambda l: l == "* server shutting down")
        assert rest[-1] == "* server shutting down"
        assert conn.read_to_eof() == b""
    assert server.wait() == 0
    final = server.wait_for_line(lambda l: l.startswith("stopped:"))
    assert " sockets=0 " in final


def test_shutdown_with_idle_echo_clients_exits_zero(start_server):
    server = start_server("--echo")
    conns = [server.connect() for _ in range(10)]
    # A connection the kernel completed but no AcceptEx has taken yet is reset when the listener
    # closes (as on Windows): the Ctrl+C must come after the server has accepted all ten.
    for conn in conns:
        port = conn.sock.getsockname()[1]
        server.wait_for_line(lambda l: l.startswith("connect slot=") and f" peer=127.0.0.1:{port} " in l)
    server.interrupt()
    for conn in conns:
        assert conn.read_to_eof() == b""
    assert server.wait() == 0


def run_exe(wine, *args, timeout=60):
    return wine.run("server.exe", list(args), capture_output=True,
                          timeout=timeout, text=True)


def test_help_prints_usage(wine):
    result = run_exe(wine, "--help")
    assert result.returncode == 0
    assert "usage: server.exe" in result.stdout and "--send-limit" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--port", "99999"], "--port 99999: expected a number"),
    (["--frobnicate"], "unknown option --frobnicate"),
    (["--accepts"], "--accepts needs a value"),
    (["--bind", "not-an-address"], "not an IPv4 or IPv6 address"),
])
def test_bad_options_are_refused_clearly(wine, args, message):
    result = run_exe(wine, *args)
    assert result.returncode != 0
    assert message in result.stderr


def test_port_in_use_is_a_clear_startup_error(server, wine):
    result = run_exe(wine, "--port", str(server.port), "--bind", "127.0.0.1")
    assert result.returncode != 0
    assert "cannot listen on 127.0.0.1 port %d: bind failed: 10048" % server.port in result.stderr


def test_quiet_drops_connection_lines_and_stats_prints_counters(start_server):
    server = start_server("--quiet", "--stats", "1")
    with server.connect() as conn:
        conn.read_line()
        server.wait_for_line(lambda l: l.startswith("stats online=1 "))
    assert not any(l.startswith(("connect ", "disconnect ")) for l in server.output().splitlines())


def test_echo_returns_a_mebibyte_per_connection_exactly(start_server):
    server = start_server("--echo")
    size = 1 << 20
    payloads = [os.urandom(size) for _ in range(10)]
    conns = [server.connect(timeout=120) for _ in payloads]
    received = [bytearray() for _ in payloads]

    def pump(conn, payload, into):
        sender = threading.Thread(target=conn.sock.sendall, args=(payload,), daemon=True)
        sender.start()
        while len(into) < size:
            chunk = conn.sock.recv(1 << 16)
            if not chunk:
                break
            into += chunk
        sender.join()

    threads = [threading.Thread(target=pump, args=args, daemon=True) for args in zip(conns, payloads, received)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    for payload, got in zip(payloads, received):
        assert bytes(got) == payload


def test_chat_mode_sends_nothing_extra_in_echo_mode(start_server):
    server = start_server("--echo")
    with server.connect() as conn:
        conn.send("/stats\n")
        assert conn.read_line() == "/stats"  # echoed, not answered


# ---- Zero-byte receives ------------------------------------------------------------------------------

def test_idle_connections_wait_in_zero_byte_receives_and_hold_no_buffer(start_server):
    # 300 connections that say nothing after their welcome: each waits in a zero-byte receive, and
    # none holds a receive buffer (the pool lends none). A zero-byte receive completes only when
    # data came: none completed empty (reads_empty), and every one of them is still waiting.
    server = start_server("--quiet")
    idle = [server.connect(timeout=60) for _ in range(300)]
    for conn in idle:
        assert conn.read_line().startswith("* welcome")
    stats = server.wait_for_stats(lambda s: s["online"] == 301 and s["lent_buffers"] <= 1)
    assert stats["zero_recvs"] >= 300 and stats["lent_buffers"] <= 1  # the probe's own, at most
    assert stats["reads_empty"] == 0
    # They speak, each once: each line is read after its zero-byte receive completes, and answered.
    for i, conn in enumerate(idle):
        conn.send(f"/ping idle-{i}\r\n")
    for i, conn in enumerate(idle):
        assert conn.read_until(lambda l: l.startswith("PONG"))[-1] == f"PONG idle-{i}"
    # Then silence again: the real receives they got while talking are cancelled by the sweep and
    # the buffers go back; every connection is still online and still answers.
    stats = server.wait_for_stats(lambda s: s["lent_buffers"] <= 1 and s["recv_cancelled"] >= 300, timeout=30)
    assert stats["lent_buffers"] <= 1 and stats["recv_cancelled"] >= 300 and stats["online"] == 301
    assert idle[123].command("/ping again", "PONG") == "PONG again"
    for conn in idle:
        conn.close()


def test_talking_connections_keep_a_real_receive_and_lose_no_byte(start_server):
    # 50 echo clients in lockstep for many rounds: their receives are real ones into lent buffers
    # (most complete at once), the bytes come back exactly, and once they stop the buffers go back.
    server = start_server("--echo")
    conns = [server.connect() for _ in range(50)]
    for round_no in range(40):
        for i, conn in enumerate(conns):
            conn.send(f"round {round_no} from {i} " + "x" * (i * 37 % 900) + "\n")
        for i, conn in enumerate(conns):
            assert conn.read_line() == f"round {round_no} from {i} " + "x" * (i * 37 % 900)
    chat = start_server()
    probe = chat.connect()
    probe.read_line()
    before = probe.stats()
    for _ in range(20):
        assert probe.command("/ping x", "PONG") == "PONG x"
    after = probe.stats()
    # 21 lines in one after another: one zero-byte receive at most, the rest real ones.
    assert after["zero_recvs"] - before["zero_recvs"] <= 2
    for conn in conns:
        conn.close()
