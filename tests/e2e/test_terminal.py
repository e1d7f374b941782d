"""Terminals on the real server, checked on rendered screens: Windows' telnet.exe (a stand-in
written from its documented behaviour), Linux telnet in character mode, PuTTY's telnet (plink);
raw clients, byte for byte as before; Korean text both ways."""
import shutil
import time

import pytest

from tests.harness import Conn
from tests.terminals import Screen, WindowsTelnet

pexpect = pytest.importorskip("pexpect")

IAC = 0xFF


def welcomed(terminal):
    terminal.screen.wait_for_text("* welcome guest")
    return terminal.screen.rows()[terminal.screen.row_with("* welcome")].split()[2].rstrip(",")


def raw_client(server):
    conn = Conn(server.port)
    nick = conn.read_line().split()[2].rstrip(",")
    return conn, nick


# ---- Raw clients ------------------------------------------------------------------------------------

def test_clients_that_send_whole_lines_never_receive_a_telnet_byte(server):
    a, a_nick = raw_client(server)
    b, _ = raw_client(server)
    for line in ["hello", "/who", "/board", "/help", "/move up", "/nick Raw1", "/ping x", "/stats", "ab\bc",
                 "x" * 600, "slow"]:
        a.send_line(line)
        b.send(line[: len(line) // 2])  # a line in two pieces, each more than a keystroke or ending it
        time.sleep(0.01)
        b.send(line[len(line) // 2:] + "\r\n")
    a.send_line("/ping last")
    b.send_line("/ping last")
    got = [a.read_until(lambda l: l == "PONG last"), b.read_until(lambda l: l == "PONG last")]
    for conn in (a, b):
        assert IAC not in conn.buf
    assert all(chr(IAC) not in line and "\x1b" not in line for lines in got for line in lines)
    assert f"{a_nick} is now Raw1" in "\n".join(got[0])
    a.close()
    b.close()


def test_a_subnegotiation_however_long_is_skipped_and_what_follows_is_read(server, server_io):
    conn, _ = raw_client(server)
    long = 100_000 if server_io == "whole" else 2_000  # one completion a byte: 2 KB is long enough
    conn.send(bytes([IAC, 250, 24]) + b"x" * long + bytes([IAC, 240]) + b"/ping after\r\n")
    assert conn.read_until(lambda l: l.endswith("PONG after"))[-1].endswith("PONG after")
    conn.close()


# ---- Windows telnet -------------------------------------------------------------------------------

@pytest.fixture
def windows_telnet(server):
    opened = []

    def open_one(**kw):
        terminal = WindowsTelnet(server.port, **kw)
        opened.append(terminal)
        return terminal

    yield open_one
    for terminal in opened:
        terminal.close()


def test_windows_telnet_sees_what_it_types_once_and_backspace_erases_it(windows_telnet):
    t = windows_telnet()
    nick = welcomed(t)
    t.type("helo")
    t.screen.wait_for(lambda s: s.rows()[1] == "helo", what="the typed text")
    t.backspace()
    t.type("lo wrld")
    t.backspace(3)
    t.type("orld")
    t.screen.wait_for(lambda s: s.rows()[1] == "hello world", what="the edited text")
    t.enter()
    t.screen.wait_for_text(f"{nick}: hello world")
    assert t.screen.rows()[1] == "hello world" and t.screen.rows()[2] == f"{nick}: hello world"


def test_what_was_typed_before_the_echo_was_agreed_is_shown(windows_telnet):
    t = windows_telnet(answer_delay=0.5, key_delay=0.01)  # its DO ECHO arrives after the whole word
    welcomed(t)
    t.type("hello")
    t.screen.wait_for(lambda s: s.rows()[1] == "hello", what="hello, not ello")


def test_a_line_arriving_while_typing_goes_above_the_half_typed_line(server, windows_telnet):
    t = windows_telnet()
    nick = welcomed(t)
    other, other_nick = raw_client(server)
    t.screen.wait_for_text(f"* {other_nick} joined")
    t.type("half typed li")
    t.screen.wait_for_text("half typed li")
    other.send_line("a message arrives")
    t.screen.wait_for_text(f"{other_nick}: a message arrives")
    rows = t.screen.rows()
    at = t.screen.row_with(f"{other_nick}: a message arrives")
    assert rows[at] == f"{other_nick}: a message arrives"  # on its own row
    assert rows[at + 1] == "half typed li"  # the input below it, intact
    assert t.screen.cursor() == (at + 1, len("half typed li"))
    t.type("ne")
    t.enter()
    t.screen.wait_for_text(f"{nick}: half typed line")
    other.close()


def test_many_lines_in_one_turn_cost_one_erase_and_one_redraw(server, windows_telnet, server_io):
    if server_io == "short":
        pytest.skip("one byte a receive takes the burst in many turns: what one turn costs is not asked then")
    t = windows_telnet()
    welcomed(t)
    other, other_nick = raw_client(server)
    t.screen.wait_for_text(f"* {other_nick} joined")
    t.type("typing")
    t.screen.wait_for_text("typing")
    before = len(t.received)
    other.send(b"".join(f"burst {i}\r\n".encode() for i in range(5)))
    t.screen.wait_for_text(f"{other_nick}: burst 4")
    time.sleep(0.3)
    rows = t.screen.rows()
    at = t.screen.row_with(f"{other_nick}: burst 0")
    assert rows[at:at + 6] == [f"{other_nick}: burst {i}" for i in range(5)] + ["typing"]
    burst = bytes(t.received[before:])
    assert burst.count(b"\r\x1b[J") == 1 and burst.count(b"typing") == 1, burst
    other.close()


def test_a_wrapped_half_typed_line_is_redrawn_whole(server, windows_telnet):
    t = windows_telnet(columns=40)
    welcomed(t)
    other, other_nick = raw_client(server)
    t.screen.wait_for_text(f"* {other_nick} joined")
    typed = "".join(chr(ord("a") + i % 26) for i in range(60))
    t.type(typed)
    t.screen.wait_for_text(typed[40:])
    other.send_line("over the wrapped line")
    t.screen.wait_for_text(f"{other_nick}: over the wrapped line")
    rows = t.screen.rows()
    at = t.screen.row_with(f"{other_nick}: over the wrapped line")
    assert rows[at + 1] == typed[:40] and rows[at + 2] == typed[40:]
    other.close()


def test_arrow_keys_leave_nothing_in_the_line(windows_telnet):
    t = windows_telnet()
    nick = welcomed(t)
    t.type("ab")
    for direction in ("up", "left", "down", "right"):
        t.arrow(direction)
    t.type("c")
    t.enter()
    t.screen.wait_for_text(f"{nick}: abc")
    assert "[A" not in t.screen.text() and "[D" not in t.screen.text()


# ---- Korean text both ways -------------------------------------------------------------------------

def test_hangul_typed_in_cp949_arrives_as_utf8_and_the_reverse(server, windows_telnet):
    korean = windows_telnet(encoding="cp949")  # a Korean Windows console: each Hangul key, two bytes
    korean_nick = welcomed(korean)
    utf8, utf8_nick = raw_client(server)
    korean.screen.wait_for_text(f"* {utf8_nick} joined")
    korean.type("안녕하세요")
    korean.screen.wait_for(lambda s: s.rows()[2] == "안녕하세요", what="its own Hangul, once")
    korean.backspace()
    korean.type("요!")
    korean.enter()
    line = utf8.read_until(lambda l: l.startswith(f"{korean_nick}: "))[-1]
    assert line == f"{korean_nick}: 안녕하세요!"
    utf8.send_line("한국어 답장 ü")
    korean.screen.wait_for_text(f"{utf8_nick}: 한국어 답장 ?")  # what CP949 cannot show: '?'
    utf8.close()


def test_the_encoding_can_be_set_by_hand(server):
    conn, nick = raw_client(server)
    conn.send_line("/encoding cp949")
    assert conn.read_line() == "* encoding cp949"
    conn.send("가나\r\n".encode("cp949"))
    conn.buf += conn.sock.recv(65536)
    while b"\n" not in conn.buf:
        conn.buf += conn.sock.recv(65536)
    assert conn.buf.split(b"\r\n")[0].decode("cp949") == f"{nick}: 가나"
    conn.buf = b""
    conn.send_line("/encoding utf8")
    assert conn.read_line() == "* encoding utf8"
    conn.close()


# ---- Real clients -------------------------------------------------------------------------------------

class Terminal:
    """A real terminal program in a pseudo-terminal, its output rendered."""

    def __init__(self, command, columns=80, rows=24):
        self.screen = Screen(columns, rows)
        self.proc = pexpect.spawn(command[0], command[1:], dimensions=(rows, columns),
                                  env={"TERM": "xterm", "PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8"})

    def pump(self, seconds=0.3):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.screen.feed(self.proc.read_nonblocking(65536, timeout=0.05))
            except pexpect.TIMEOUT:
                pass
            except pexpect.EOF:
                return

    def wait_for_text(self, text, timeout=20):
        deadline = time.monotonic() + timeout
        while text not in self.screen.text():
            assert time.monotonic() < deadline, f"{text!r} never appeared on:\n{self.screen.text()}"
            self.pump(0.1)

    def type(self, text):
        for ch in text:
            self.proc.send(ch.encode())
            self.pump(0.03)

    def close(self):
        self.proc.terminate(force=True)


def real_terminal_session(terminal, server, enter):
    """Types, erases and takes a line arriving mid-typing, as a user of this terminal would."""
    terminal.wait_for_text("* welcome guest")
    nick = terminal.screen.text().split("* welcome ")[1].split(",")[0]
    other, other_nick = raw_client(server)
    terminal.wait_for_text(f"* {other_nick} joined")
    terminal.type("hellp")
    terminal.proc.send(b"\x7f")
    terminal.type("o there")
    terminal.wait_for_text("hello there")
    row = terminal.screen.row_with("hello there")
    assert terminal.screen.rows()[row].endswith("hello there") and terminal.screen.text().count("hello there") == 1
    other.send_line("in the middle")
    terminal.wait_for_text(f"{other_nick}: in the middle")
    rows = terminal.screen.rows()
    at = terminal.screen.row_with(f"{other_nick}: in the middle")
    assert rows[at + 1] == "hello there"
    terminal.proc.send(enter)
    terminal.wait_for_text(f"{nick}: hello there")
    other.close()


@pytest.mark.skipif(shutil.which("telnet") is None, reason="telnet (inetutils-telnet) is not installed")
def test_linux_telnet_in_character_mode(server):
    terminal = Terminal(["telnet", "127.0.0.1", str(server.port)])
    try:
        terminal.wait_for_text("* welcome guest")
        terminal.proc.send(b"\x1d")  # the escape character, then telnet's own prompt
        terminal.wait_for_text("telnet>")
        terminal.proc.send(b"mode character\r")
        terminal.pump(1)
        real_terminal_session(terminal, server, b"\r")
    finally:
        terminal.close()


@pytest.mark.skipif(shutil.which("plink") is None, reason="plink (putty-tools) is not installed")
def test_putty_telnet(server):
    terminal = Terminal(["plink", "-telnet", "-P", str(server.port), "127.0.0.1"])
    try:
        real_terminal_session(terminal, server, b"\r")
    finally:
        terminal.close()
