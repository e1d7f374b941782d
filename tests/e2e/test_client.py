"""client.exe end to end: the interactive client with piped input, and the bot stress tester
against the real server.exe (and, to prove its checks can fail, against a fake server that
drops, duplicates and misplaces replies)."""
import re
import socket
import subprocess
import threading
import time

import pytest

from tests.harness import free_port

RESULT = re.compile(r"^RESULT (.*)$", re.M)
PROGRESS = re.compile(r"^t=\d+s connected=(\d+) failed=(\d+) sent/s=(\d+) recv/s=(\d+) p50_ms=[\d.]+ p99_ms=[\d.]+",
                      re.M)
ERROR_ROW = re.compile(r"^    (\S.*?)\s+(\d+)\r?$", re.M)  # the summary's rows under "errors"


def run_client(wine, args, stdin=b"", timeout=120):
    return wine.run("client.exe", args, input=stdin, capture_output=True, timeout=timeout)


def result_of(output):
    match = RESULT.search(output)
    assert match, "no RESULT line in:\n" + output[-3000:]
    return {k: float(v) for k, v in (kv.split("=") for kv in match.group(1).split())}


def error_rows(output):
    """The summary table's error kinds, e.g. {"connection lost": 50}."""
    return {name: int(count) for name, count in ERROR_ROW.findall(output)}


def bots(wine, port, *args, timeout=180):
    proc = run_client(wine, ["--bots"] + list(args) + ["127.0.0.1", str(port)], timeout=timeout)
    output = proc.stdout.decode()
    return proc.returncode, result_of(output), output


# ---- Interactive ------------------------------------------------------------------------------

def test_piped_session_prints_replies_and_exits_after_quit(server, wine):
    proc = run_client(wine, ["127.0.0.1", str(server.port)], b"/ping hi\n/nick piper\n/quit\n", timeout=60)
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    lines = out.splitlines()
    assert lines[0].startswith("* welcome guest")
    assert "PONG hi" in lines and "* bye" in lines
    assert any(l.endswith(" is now piper") for l in lines)
    assert "server closed" not in proc.stderr.decode()


def test_end_of_piped_input_still_prints_every_reply(server, wine):
    proc = run_client(wine, ["127.0.0.1", str(server.port)], b"/ping one\n/ping two\n", timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().splitlines()
    assert lines[-2:] == ["PONG one", "PONG two"]


def test_last_line_without_line_end_is_still_sent(server, wine):
    proc = run_client(wine, ["127.0.0.1", str(server.port)], b"/ping first\n/ping last", timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().splitlines()[-2:] == ["PONG first", "PONG last"]


def test_quit_is_recognised_as_the_server_parses_it(server, spawn):
    # Input stays open, so only a recognised /quit makes the server's close expected (exit 0,
    # not 3). Spaces around it and an argument do not stop the server from quitting.
    client = spawn("client.exe", ["127.0.0.1", str(server.port)], stdin=subprocess.PIPE)
    client.wait_for_line(lambda l: l.startswith("* welcome"))
    client.proc.stdin.write(b"  /QUIT now  \n")
    client.proc.stdin.flush()
    assert client.wait(timeout=30) == 0, client.output()
    assert "* bye" in client.output().splitlines()
    assert "server closed the connection" not in client.output()


def test_cannot_connect_says_so(wine):
    port = free_port()
    proc = run_client(wine, ["127.0.0.1", str(port)], b"", timeout=60)
    assert proc.returncode == 1
    assert re.search(rf"cannot connect to 127\.0\.0\.1:{port}: \d+ \S", proc.stderr.decode()), proc.stderr.decode()


def test_server_closing_first_is_reported(start_server, spawn):
    server = start_server()
    # Input stays open: the user is still at the keyboard when the server goes away.
    client = spawn("client.exe", ["127.0.0.1", str(server.port)], stdin=subprocess.PIPE)
    client.wait_for_line(lambda l: l.startswith("* welcome"))
    server.interrupt()
    assert client.wait(timeout=30) == 3
    assert "* server shutting down" in client.output()
    assert "server closed the connection" in client.output()


def test_ctrl_c_ends_an_interactive_session(server, spawn):
    client = spawn("client.exe", ["127.0.0.1", str(server.port)], stdin=subprocess.PIPE)
    client.wait_for_line(lambda l: l.startswith("* welcome"))
    client.interrupt()
    assert client.wait(timeout=30) == 0, client.output()


# ---- Bots against server.exe -------------------------------------------------------------------

def test_two_hundred_ping_bots_for_ten_seconds(server, wine):
    code, result, output = bots(wine, server.port, "200", "--duration", "10", "--mix", "ping")
    assert code == 0, output[-3000:]
    assert result["bots"] == 200 and result["connected"] == 200 and result["failed"] == 0
    assert result["errors"] == 0
    assert result["sent"] >= 200 * 9  # about one /ping a second each
    assert result["received"] >= result["sent"]  # every PONG, plus welcome and joined lines
    assert 0 < result["p50_ms"] <= result["p99_ms"] <= result["max_ms"]
    progress = PROGRESS.findall(output)
    assert len(progress) >= 9, output[-3000:]  # one line a second
    assert ("200", "0") in [(connected, failed) for connected, failed, _, _ in progress]


def test_move_bots_see_their_moves_in_order(server, wine):
    # Rate 10: several moves are in flight at once, so the walk is checked square by square.
    code, result, output = bots(wine, server.port, "20", "--duration", "5", "--rate", "10", "--mix", "move")
    assert code == 0, output[-3000:]
    assert result["connected"] == 20 and result["errors"] == 0 and result["sent"] >= 20 * 10 * 4
    assert result["received"] >= result["sent"] * 15  # on-board moves reach every bot


def test_chat_bots_see_their_lines_in_order(server, wine):
    code, result, output = bots(wine, server.port, "20", "--duration", "5", "--rate", "4", "--mix", "chat")
    assert code == 0, output[-3000:]
    assert result["connected"] == 20 and result["errors"] == 0 and result["sent"] >= 20 * 4 * 4
    assert result["received"] >= result["sent"] * 20  # every line reaches all twenty
    assert result["heard"] > 0  # the other bots' lines, each checked for order


def test_a_broadcast_reaches_every_listener_and_each_times_it(server, wine):
    code, result, output = bots(wine, server.port, "50", "--duration", "2", "--rate", "2", "--burst", "3",
                                "--speakers", "1", "--mix", "chat")
    assert code == 0, output[-3000:]
    assert result["errors"] == 0 and result["sent"] >= 3 and result["sent"] % 3 == 0
    assert result["heard"] == result["sent"] * 49, output[-3000:]  # every listener, every line
    assert "bursts, by their last" in output


def test_a_fractional_rate_is_one_line_in_so_many_seconds(server, wine):
    # 0.25 a second: one line in 4 s, the first of each bot somewhere in those 4 s; a bot acts 4 s.
    code, result, output = bots(wine, server.port, "40", "--duration", "4", "--rate", "0.25", "--mix", "chat")
    assert code == 0, output[-3000:]
    assert 10 <= result["sent"] <= 40, output[-3000:]


def test_hundred_echo_bots(start_server, wine):
    server = start_server("--echo")
    code, result, output = bots(wine, server.port, "100", "--duration", "5", "--mix", "echo")
    assert code == 0, output[-3000:]
    assert result["connected"] == 100 and result["errors"] == 0
    assert result["received"] == result["sent"] >= 100 * 4
    code, result, output = bots(wine, server.port, "100", "--duration", "3", "--mix", "echo", "--depth", "8")
    assert code == 0, output[-3000:]
    assert result["connected"] == 100 and result["errors"] == 0
    assert result["received"] == result["sent"] > 100 * 8


def test_ctrl_c_stops_a_bot_run_and_reports_it(start_server, spawn):
    # Eight messages per bot are always in flight: they must be waited for, not counted missing.
    server = start_server("--echo")
    client = spawn("client.exe", ["--bots", "50", "--duration", "60", "--mix", "echo", "--depth", "8",
                                  "127.0.0.1", str(server.port)])
    client.wait_for_line(lambda l: l.startswith("t=2s"))
    client.interrupt()
    assert client.wait(timeout=30) == 0, client.output()[-3000:]
    result = result_of(client.output())
    assert result["connected"] == 50 and result["errors"] == 0
    assert result["received"] == result["sent"] > 50 * 8


def test_echo_bots_against_the_chat_server_report_errors(server, wine):
    code, result, output = bots(wine, server.port, "5", "--duration", "2", "--mix", "echo")
    assert code == 1 and result["errors"] > 0
    assert error_rows(output).get("unexpected line", 0) >= 5  # each bot's welcome line


def test_chat_bots_without_a_welcome_end_on_time(start_server, wine):
    # The echo server never welcomes anyone: the run must still end when its time is up.
    server = start_server("--echo")
    started = time.monotonic()
    code, result, output = bots(wine, server.port, "5", "--duration", "2", "--mix", "ping", timeout=60)
    assert time.monotonic() - started < 30
    assert code == 1 and result["connected"] == 5 and result["sent"] == 0
    assert error_rows(output) == {"no welcome line": 5}, output


def test_server_killed_mid_run_is_reported_as_losses(start_server, spawn):
    server = start_server()
    client = spawn("client.exe", ["--bots", "50", "--duration", "20", "--rate", "5",
                                  "127.0.0.1", str(server.port)])
    client.wait_for_line(lambda l: l.startswith("t=3s"))
    server.kill()
    code = client.wait(timeout=60)
    output = client.output()
    result = result_of(output)
    assert code == 1
    assert result["connected"] == 50 and result["errors"] >= 50
    # Wine 8 now and then (about 1 run in 10, with older builds too) keeps one of the killed
    # server's sockets open: that bot's sends still succeed and its replies are counted missing
    # when its time is up. Every other bot sees its connection lost.
    rows = error_rows(output)
    assert rows.get("connection lost", 0) >= 49 and rows.get("connection lost", 0) + rows.get(
        "replies missing at the end", 0) >= 50, output[-3000:]


def test_refused_bots_are_counted_as_failed(wine):
    code, result, output = bots(wine, free_port(), "10", "--duration", "1", timeout=60)
    assert code == 1
    assert result["connected"] == 0 and result["failed"] == 10
    assert error_rows(output) == {"connect failed": 10}


# ---- Bots against a fake server: the checks can fail -------------------------------------------

class FakeChatServer:
    """A chat server that answers every line through `reply(conn_state, line) -> [lines]`."""

    def __init__(self, reply):
        self.reply = reply
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.settimeout(0.5)
        self.stopping = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        guest = 0
        while not self.stopping:
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            guest += 1
            threading.Thread(target=self._serve, args=(conn, f"guest{guest}"), daemon=True).start()

    def _serve(self, conn, nick):
        state = {"nick": nick, "count": 0, "x": 3, "y": 3}
        buf = b""
        with conn:
            conn.sendall(f"* welcome {nick}, 1 online - /help lists commands\r\n".encode())
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.startswith(b"/stats"):
                        continue  # bot 0 asks for the server's input budget; this server has none
                    state["count"] += 1
                    out = self.reply(state, line.rstrip(b"\r").decode())
                    conn.sendall("".join(l + "\r\n" for l in out).encode())

    def close(self):
        self.stopping = True
        self.thread.join(timeout=5)
        self.listener.close()


@pytest.fixture
def fake_server():
    started = []

    def start(reply):
        fake = FakeChatServer(reply)
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.close()


def test_lost_and_duplicated_pongs_are_caught(fake_server, wine):
    def reply(state, line):
        token = line.split(" ", 1)[1]
        if state["count"] == 2:
            return []  # the second PONG is lost
        if state["count"] == 4:
            return ["PONG " + token, "PONG " + token]  # the fourth comes twice
        return ["PONG " + token]

    fake = fake_server(reply)
    code, result, output = bots(wine, fake.port, "1", "--duration", "3", "--rate", "5", timeout=60)
    assert code == 1
    assert result["connected"] == 1 and result["errors"] == 2
    assert error_rows(output) == {"lost, duplicated or reordered reply": 2}, output


def test_a_move_to_the_wrong_square_is_caught(fake_server, wine):
    steps = {"right": (1, 0), "down": (0, 1), "left": (-1, 0), "up": (0, -1)}

    def reply(state, line):
        dx, dy = steps[line.split()[1]]
        if state["count"] != 3:  # the third move is not made, though it stays on the board
            state["x"] = min(7, max(0, state["x"] + dx))
            state["y"] = min(7, max(0, state["y"] + dy))
        return [f"MOVE {state['nick']} {state['x']} {state['y']}"]

    fake = fake_server(reply)
    code, result, output = bots(wine, fake.port, "1", "--duration", "3", "--rate", "5", "--mix", "move",
                                timeout=60)
    assert code == 1
    assert result["connected"] == 1 and result["errors"] == 1 and result["sent"] >= 10
    assert error_rows(output) == {"MOVE to an unexpected square": 1}, output


def test_another_bot_s_lost_line_is_caught(fake_server, wine):
    def reply(state, line):
        own = f"{state['nick']}: {line}"
        if state["count"] == 3:
            return [own]  # the other bot's third line is lost
        return [own, f"guest99: c 5.{state['count'] - 1}.1"]

    fake = fake_server(reply)
    code, result, output = bots(wine, fake.port, "1", "--duration", "3", "--rate", "5", "--mix", "chat", timeout=60)
    assert code == 1 and result["errors"] == 1 and result["heard"] >= 10
    assert error_rows(output) == {"another bot's line lost, duplicated or reordered": 1}, output


def test_an_err_line_counts_as_an_error(fake_server, wine):
    def reply(state, line):
        return ["ERR something went wrong"] if state["count"] == 1 else ["PONG " + line.split(" ", 1)[1]]

    fake = fake_server(reply)
    code, result, output = bots(wine, fake.port, "1", "--duration", "2", "--rate", "5", timeout=60)
    assert code == 1
    # The first ping got an ERR instead of its PONG: the ERR, then that PONG found lost.
    assert error_rows(output) == {"unexpected line": 1, "lost, duplicated or reordered reply": 1}, output


# ---- Options -------------------------------------------------------------------------------------

def test_bad_options(wine):
    proc = run_client(wine, ["--bots", "0"], timeout=60)
    assert proc.returncode == 2 and b"--bots 0" in proc.stderr and b"usage:" in proc.stderr
    proc = run_client(wine, ["--bots", "3", "--mix", "dance"], timeout=60)
    assert proc.returncode == 2 and b"expected ping, move, chat or echo" in proc.stderr
    proc = run_client(wine, ["--bots", "3", "--frobnicate"], timeout=60)
    assert proc.returncode == 2 and b"unknown option --frobnicate" in proc.stderr
    proc = run_client(wine, ["--bots"], timeout=60)
    assert proc.returncode == 2 and b"--bots needs a value" in proc.stderr
    proc = run_client(wine, ["--bots", "3", "--rate", "0.0001"], timeout=60)
    assert proc.returncode == 2 and b"expected a number from 0.001 to 1000" in proc.stderr
    proc = run_client(wine, ["--bots", "3", "--speakers", "1"], timeout=60)
    assert proc.returncode == 2 and b"--speakers is for --mix chat" in proc.stderr
    proc = run_client(wine, ["--bots", "3", "--mix", "chat", "--speakers", "4"], timeout=60)
    assert proc.returncode == 2 and b"more speakers than --bots" in proc.stderr
    proc = run_client(wine, ["--help"], timeout=60)
    assert proc.returncode == 0 and b"--bots N" in proc.stdout and b"Exit codes" in proc.stdout
