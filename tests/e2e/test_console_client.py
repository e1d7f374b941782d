"""client.exe in a console is a terminal: client.exe under Wine in a tmux window (Wine's console in a
Unix terminal, the way a Windows user runs it in a console window), against the real server,
checked on the screen tmux shows (capture-pane): a half-typed line stays whole on its row while
another client says 30 lines, Backspace and Ctrl+U edit it; /play shows the board and the arrow
keys move the piece (seen on another client's /board), Esc Esc gives the lines back; the window's
size reaches the server; Hangul typed reaches another client as the same Hangul; /quit, Ctrl+C
and the server closing end it with their exit codes and the console's modes given back; --lines
and a pipe keep the line client.

A resize cannot be shown here: Wine 8's console in a tmux pane reports none (no
WINDOW_BUFFER_SIZE_EVENT, and GetConsoleScreenBufferInfo keeps the old size), so the size check and
the NAWS it sends are unit-tested (tests/unit/vt_test.cpp). On Windows a console window's resize
changes the window rectangle GetConsoleScreenBufferInfo reports
(https://learn.microsoft.com/windows/console/getconsolescreenbufferinfo), which client.exe checks
on every WINDOW_BUFFER_SIZE_EVENT and whenever it is idle."""
import os
import re
import shlex
import shutil
import subprocess
import time

import pytest

from tests.harness import BUILD, ON_WINDOWS, Conn

pytestmark = pytest.mark.skipif(ON_WINDOWS or shutil.which("tmux") is None,
                                reason="drives Wine's console through tmux")

EXIT = re.compile(r"EXIT=(\d+)")
CRASH = ("Unhandled", "page fault", "Backtrace")  # what Wine prints when a program crashes


def windows_path(path):
    return "Z:" + path.replace("/", "\\")


class ConsoleWindow:
    """A tmux window running `command` (a shell command line) under the test's Wine prefix: Wine
    gives the programs in it a console of its own, drawn in the window."""

    def __init__(self, wine, tmp_path, command, width=80, height=24):
        self.tmux = ["tmux", "-S", str(tmp_path / "tmux.sock"), "-f", "/dev/null"]
        env = dict(wine.env, TERM="xterm", HOME=str(tmp_path), LANG="C.UTF-8")
        # The exit code is printed once the program is done; the window stays open to be read. bash,
        # because Ctrl+C is the terminal's SIGINT to the whole foreground group (Wine makes it the
        # console's CTRL_C_EVENT): bash outlives it when its child handled it, dash does not.
        shell = f'{command}; echo "EXIT=$?"; sleep 600'
        subprocess.run(self.tmux + ["new-session", "-d", "-x", str(width), "-y", str(height), "bash", "-c", shell],
                       env=env, check=True)

    @classmethod
    def client(cls, wine, tmp_path, port, *args, **kw):
        return cls(wine, tmp_path, shlex.join(wine.command("client.exe", list(args) + ["127.0.0.1", str(port)])), **kw)

    def pane(self, history=False):
        """The window's text, one string per row (with `history`, the rows scrolled off it too)."""
        command = self.tmux + ["capture-pane", "-p"] + (["-S", "-1000"] if history else [])
        return subprocess.run(command, capture_output=True, text=True).stdout.split("\n")

    def rows(self):
        return [row.rstrip() for row in self.pane()]

    def cursor(self):
        """(column, row) of the window's cursor, from 0."""
        out = subprocess.run(self.tmux + ["display", "-p", "#{cursor_x} #{cursor_y}"], capture_output=True, text=True)
        column, row = out.stdout.split()
        return int(column), int(row)

    def wait_for(self, predicate, what, timeout=30):
        deadline = time.monotonic() + timeout
        while not predicate(self.rows()):
            assert time.monotonic() < deadline, f"timed out waiting for {what}; the window:\n" + "\n".join(self.rows())
            time.sleep(0.05)
        return self.rows()

    def wait_for_text(self, text, timeout=30):
        return self.wait_for(lambda rows: any(text in row for row in rows), repr(text), timeout)

    def keys(self, *names):
        subprocess.run(self.tmux + ["send-keys"] + list(names), check=True)

    def type(self, text):
        subprocess.run(self.tmux + ["send-keys", "-l", text], check=True)

    def exit_code(self, timeout=30):
        rows = self.wait_for(lambda rows: any(EXIT.search(row) for row in rows), "the exit code", timeout)
        return int(next(EXIT.search(row).group(1) for row in rows if EXIT.search(row)))

    def close(self):
        """Ends the client if it still runs (Ctrl+C), then the window."""
        if not any(EXIT.search(row) for row in self.rows()):
            self.keys("C-c")
            try:
                self.exit_code(timeout=15)
            except AssertionError:
                pass
        subprocess.run(self.tmux + ["kill-server"], capture_output=True)


@pytest.fixture
def console(wine, tmp_path):
    """console(port, *args, width=, height=) -> the ConsoleWindow of a client.exe, welcomed."""
    opened = []

    def open_one(port, *args, **kw):
        os.makedirs(tmp_path / str(len(opened)), exist_ok=True)
        window = ConsoleWindow.client(wine, tmp_path / str(len(opened)), port, *args, **kw)
        opened.append(window)
        window.wait_for_text("* welcome guest")
        return window

    yield open_one
    for window in opened:
        window.close()


def peer(server, nick):
    """Another user, on a plain socket, named `nick`."""
    conn = Conn(server.port)
    conn.read_line()
    conn.send_line(f"/nick {nick}")
    conn.read_until(lambda l: l.endswith(f"is now {nick}"))
    return conn


def name(window, nick):
    window.type(f"/nick {nick}")
    window.keys("Enter")
    window.wait_for_text(f"is now {nick}")


def last_row(rows):
    """The last row with text on it, and its index."""
    index = max(i for i, row in enumerate(rows) if row.strip())
    return rows[index], index


# ---- The typed line and the chat --------------------------------------------------------------------

def test_a_half_typed_line_stays_on_its_row_while_another_client_says_30_lines(server, console):
    window = console(server.port)
    name(window, "Win")
    bob = peer(server, "bob")
    window.type("half typed")
    window.wait_for(lambda rows: last_row(rows)[0] == "half typed", "the typed line")
    for n in range(1, 31):
        bob.send_line(f"line {n} from bob while Win types")
    rows = window.wait_for(lambda rows: any(r == "bob: line 30 from bob while Win types" for r in rows),
                           "bob's 30th line")
    typed, at = last_row(rows)
    assert typed == "half typed"  # on its own row, under the chat, intact
    assert rows[at - 1] == "bob: line 30 from bob while Win types"
    chat = [row for row in rows if row.startswith("bob: ")]
    assert len(chat) >= 20 and all(re.fullmatch(r"bob: line \d+ from bob while Win types", row) for row in chat)
    assert [int(row.split()[2]) for row in chat] == list(range(31 - len(chat), 31))  # in order, none torn
    assert sum("half typed" in row for row in rows) == 1
    assert window.cursor() == (len("half typed"), at)

    window.keys("BSpace", "BSpace", "BSpace")  # Backspace edits it
    window.wait_for(lambda rows: last_row(rows)[0] == "half ty", "the line after three backspaces")
    window.keys("C-u")  # Ctrl+U takes it all
    window.wait_for(lambda rows: "half ty" not in "".join(rows), "the line erased")
    window.type("edited")
    window.keys("Enter")
    assert bob.read_until(lambda l: l.startswith("Win: "))[-1] == "Win: edited"
    bob.close()


# ---- The board view ----------------------------------------------------------------------------------

def board_rows(rows):
    """The 8 board rows of a board view: strings of 8 glyphs."""
    return ["".join(rows[y][2 + 2 * x] if len(rows[y]) > 2 + 2 * x else " " for x in range(8)) for y in range(8)]


def test_play_shows_the_board_and_the_arrows_move_the_piece(server, console):
    window = console(server.port, width=100, height=30)
    name(window, "Win")
    ann = peer(server, "ann")
    window.type("/play")
    window.keys("Enter")
    rows = window.wait_for(lambda rows: rows[8].startswith("  0 1 2 3 4 5 6 7") and "@ Win (" in "".join(rows),
                           "the board view")
    assert all(rows[y].startswith(f"{y} ") for y in range(8))
    # The view's chat region ends at the window's bottom row: the server has the window's height
    # from the NAWS client.exe sent (30 rows, not the 24 it assumes without one).
    assert window.cursor()[1] == 29
    x, y = map(int, re.search(r"@ Win \((\d),(\d)\)", "".join(rows)).groups())
    assert board_rows(rows)[y][x] == "@"
    dx, dy = (-1 if x == 7 else 1), (-1 if y == 7 else 1)
    window.keys("Left" if dx < 0 else "Right")
    window.wait_for_text(f"@ Win ({x + dx},{y})")
    window.keys("Up" if dy < 0 else "Down")
    rows = window.wait_for_text(f"@ Win ({x + dx},{y + dy})")
    assert board_rows(rows)[y + dy][x + dx] == "@" and board_rows(rows)[y][x] != "@"
    # Another client's /board has Win's piece there.
    ann.send_line("/board")
    board = ann.read_until(lambda l: l.startswith("  0 1 2 3 4 5 6 7"))[-9:-1]
    assert board[y + dy][2 + 2 * (x + dx)] == "W"
    # Esc Esc: the lines again. (Wine reads two Esc written at once as Alt+Esc: they go apart.)
    window.keys("Escape")
    time.sleep(0.3)  # not a timing assertion: two separate writes to the terminal
    window.keys("Escape")
    window.wait_for(lambda rows: any("* line view" in r for r in rows) and not any(r.startswith("  0 1 2 3 4 5 6 7")
                                                                                    for r in rows), "the line view")
    ann.close()


# ---- Text in and out -----------------------------------------------------------------------------------

def test_hangul_typed_reaches_another_client_as_the_same_hangul(server, console):
    window = console(server.port)
    name(window, "Win")
    ann = peer(server, "ann")
    window.type("안녕하세요 héllo")  # tmux sends UTF-8; Wine's console hands client.exe UTF-16
    window.wait_for_text("안녕하세요 héllo")
    window.keys("Enter")
    assert ann.read_until(lambda l: l.startswith("Win: "))[-1] == "Win: 안녕하세요 héllo"
    window.wait_for_text("Win: 안녕하세요 héllo")  # the server's line, drawn
    ann.send_line("한국어 답장 ü")
    window.wait_for_text("ann: 한국어 답장 ü")
    ann.close()


# ---- Every way out ---------------------------------------------------------------------------------------

def test_quit_exits_0_and_gives_the_console_s_modes_back(server, wine, tmp_path):
    # console_mode.exe prints the console's modes before and after client.exe, in the same console.
    modes = windows_path(os.path.join(BUILD, "console_mode.exe"))
    client = windows_path(os.path.join(BUILD, "client.exe"))
    line = f"{modes} & {client} 127.0.0.1 {server.port} & {modes}"
    window = ConsoleWindow(wine, tmp_path, shlex.join(["wine", "cmd", "/c", line]))
    try:
        window.wait_for_text("* welcome guest")
        window.type("half typed")
        window.keys("C-u")
        window.type("/quit")
        window.keys("Enter")
        assert window.exit_code() == 0
        rows = window.rows()
        at = [i for i, r in enumerate(rows) if r.startswith("console modes")]
        assert len(at) == 2 and rows[at[0]] == rows[at[1]] and "unknown" not in rows[at[0]], rows
        assert at[1] == rows.index("* bye") + 1  # under what the session showed, on a row of its own
    finally:
        window.close()


def test_ctrl_c_exits_0_cleanly(server, console):
    window = console(server.port)
    window.type("half typed")
    window.wait_for_text("half typed")
    window.keys("C-c")
    assert window.exit_code() == 0
    history = "\n".join(window.pane(history=True))
    assert not any(word in history for word in CRASH), history  # no page fault on the way out


def test_the_server_closing_is_reported_with_exit_code_3(start_server, console):
    server = start_server()
    window = console(server.port)
    window.type("half typed")
    window.wait_for_text("half typed")
    server.interrupt()
    assert window.exit_code() == 3
    rows = window.rows()
    assert any("* server shutting down" in r for r in rows)
    assert any(r.startswith("server closed the connection") for r in rows)


# ---- The line client stays ----------------------------------------------------------------------------------

def test_lines_forces_the_line_client_in_a_console(server, console):
    window = console(server.port, "--lines")
    window.type("/play")
    window.keys("Enter")
    window.wait_for_text("ERR /play needs a character-mode terminal")
    window.type("/quit")
    window.keys("Enter")
    assert window.exit_code() == 0


def test_a_piped_run_is_unchanged(server, wine):
    proc = wine.run("client.exe", ["127.0.0.1", str(server.port)], input=b"/play\n/ping piped\n/quit\n",
                    capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout
    assert b"\x1b" not in out and b"\xff" not in out  # no telnet, no drawing: lines only
    lines = out.decode().splitlines()
    assert lines[0].startswith("* welcome guest")
    assert "ERR /play needs a character-mode terminal" in lines and "PONG piped" in lines and lines[-1] == "* bye"
