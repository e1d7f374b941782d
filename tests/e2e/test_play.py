"""/play on the real server, checked on rendered screens: telnet windows (the Windows telnet.exe
stand-in of tests/terminals.py, drawn by pyte) in the board view see every piece move as it moves,
chat scrolls under the board while the typed line stays, the window size is honoured, bots moving
beside the viewers change nothing for them; and a real telnet in tmux plays too."""
import shutil
import subprocess
import time

import pytest

from tests.harness import Conn
from tests.terminals import WindowsTelnet

BOARD_ROWS = 8


def board(screen):
    """The board at the top of a board view: 8 strings of 8 glyphs, row y = 0 first."""
    rows = screen.rows()
    return ["".join(rows[y][2 + 2 * x] if len(rows[y]) > 2 + 2 * x else " " for x in range(8)) for y in range(8)]


def where(screen, glyph):
    """The squares (x, y) showing `glyph` on the board view."""
    return [(x, y) for y, row in enumerate(board(screen)) for x, g in enumerate(row) if g == glyph]


def is_board_view(screen):
    rows = screen.rows()
    return len(rows) > 9 and rows[8].startswith("  0 1 2 3 4 5 6 7") and all(
        rows[y].startswith(f"{y} ") for y in range(BOARD_ROWS))


@pytest.fixture
def player(server):
    """player(nick, **telnet options) -> a WindowsTelnet named `nick`, in the line view."""
    opened = []

    def open_one(nick, **kw):
        terminal = WindowsTelnet(server.port, **kw)
        opened.append(terminal)
        terminal.screen.wait_for_text("* welcome guest")
        terminal.type(f"/nick {nick}")
        terminal.enter()
        terminal.screen.wait_for_text(f"is now {nick}")
        return terminal

    yield open_one
    for terminal in opened:
        terminal.close()


def wait_for_words(screen, text):
    """`text` on the screen, wrapped over rows or not (spaces are not compared)."""
    screen.wait_for(lambda s: text.replace(" ", "") in "".join(s.rows()).replace(" ", ""), what=repr(text))


def glyph_after_move(screen, target, letter):
    """What `screen` will show on `target` once the piece shown as `letter` moves there."""
    now = board(screen)[target[1]][target[0]]
    return "@" if now == "@" else "+" if now != "." else letter


def play(terminal):
    terminal.type("/play")
    terminal.enter()
    terminal.screen.wait_for(is_board_view, what="the board view")
    return terminal


def square_of(server, nick):
    with Conn(server.port) as conn:
        conn.read_line()
        who = conn.command("/who", "* ")
    entry = who.split(f" {nick} (")[1]
    return int(entry[0]), int(entry[2])


def test_play_needs_a_character_mode_terminal_and_help_lists_it(server):
    with Conn(server.port) as conn:
        conn.read_line()
        conn.send_line("/play")
        assert conn.read_line() == "ERR /play needs a character-mode terminal"
        assert "telnet" in conn.read_line()
        conn.send_line("/help")
        lines = conn.read_until(lambda line: line.startswith("*   /quit"))
        assert any(line.startswith("*   /play ") and "arrow keys" in line for line in lines)
        conn.send_line("/ping still here")  # nothing else changed for it
        assert conn.read_line() == "PONG still here"


def test_an_arrow_key_moves_the_piece_on_every_board_and_line_clients_get_move_lines(server, player):
    line_client = Conn(server.port)
    line_client.read_line()
    ann, bob = play(player("Ann")), play(player("Bob"))
    ann.screen.wait_for(lambda s: len(where(s, "B")) == 1 and len(where(s, "g")) == 1, what="Bob and the line client")
    (bx, by), = where(ann.screen, "B")
    assert where(bob.screen, "@") == [(bx, by)] and where(bob.screen, "A") == where(ann.screen, "@")
    step = -1 if bx == 7 else 1
    target = (bx + step, by)
    shown = glyph_after_move(ann.screen, target, "B")
    bob.arrow("left" if step < 0 else "right")
    ann.screen.wait_for(lambda s: board(s)[by][bx] == "." and board(s)[by][target[0]] == shown,
                        what="Bob's piece to move on Ann's board")
    bob.screen.wait_for(lambda s: where(s, "@") == [target], what="Bob's own piece to move")
    assert board(ann.screen)[by][bx] == "."
    assert line_client.read_until(lambda l: l.startswith("MOVE"))[-1] == f"MOVE Bob {target[0]} {target[1]}"
    ann.screen.wait_for_text(f"Bob ({target[0]},{target[1]})")  # the list beside the board
    assert "MOVE" not in ann.screen.text() and "MOVE" not in bob.screen.text()
    line_client.close()


def test_the_edge_rule_holds_on_the_board(server, player):
    ann, bob = play(player("Ann")), play(player("Bob"))
    ann.screen.wait_for(lambda s: len(where(s, "B")) == 1, what="Bob on Ann's board")
    (_, by), = where(ann.screen, "B")
    for _ in range(9):  # past the left edge
        bob.arrow("left")
    ann.screen.wait_for(lambda s: where(s, "B") == [(0, by)], what="Bob at the left edge")
    bob.arrow("left")
    bob.arrow("up" if by > 0 else "down")  # a move after the bump still moves: the bump was taken
    ann.screen.wait_for(lambda s: where(s, "B") == [(0, by - 1 if by > 0 else by + 1)], what="Bob's next move")
    assert where(bob.screen, "@") == where(ann.screen, "B")
    assert square_of(server, "Bob") == where(ann.screen, "B")[0]


def test_chat_scrolls_under_the_board_and_the_typed_line_stays(server, player):
    flood = Conn(server.port)
    flood.read_line()
    ann, bob = play(player("Ann")), player("Bob")
    ann.screen.wait_for(lambda s: "Bob (" in s.text(), what="Bob in Ann's list")
    top = ann.screen.rows()[:10]
    ann.type("half typed")
    bob.type("hello there")
    bob.enter()
    ann.screen.wait_for_text("Bob: hello there")
    rows = ann.screen.rows()
    assert rows[-1] == "half typed" and ann.screen.cursor() == (23, len("half typed"))
    assert rows[-2] == "Bob: hello there" and rows[:10] == top
    for n in range(30):  # more lines than the chat region holds
        flood.send_line(f"line {n}")
    ann.screen.wait_for_text("line 29")
    rows = ann.screen.rows()
    assert rows[:8] == top[:8] and rows[-1] == "half typed" and rows[-2].endswith("line 29")
    assert ann.screen.cursor() == (23, len("half typed"))
    ann.enter()
    ann.screen.wait_for_text("Ann: half typed")
    assert ann.screen.rows()[-1] == "" and ann.screen.rows()[-2] == "Ann: half typed"
    flood.close()


def test_the_board_view_opens_with_the_recent_chat(server, player):
    bob = player("Bob")
    bob.type("said before")
    bob.enter()
    ann = player("Ann")  # it was not there when Bob said it
    assert "said before" not in ann.screen.text()
    play(ann)
    ann.screen.wait_for_text("Bob: said before")
    rows = ann.screen.rows()
    assert rows[-4:] == ["Bob: said before", "* guest2 joined", "* guest2 is now Ann", ""]


def test_a_move_puts_the_cursor_back_after_the_typed_line(server, player):
    ann, bob = play(player("Ann")), play(player("Bob"))
    ann.screen.wait_for(lambda s: len(where(s, "B")) == 1, what="Bob on Ann's board")
    (bx, by), = where(ann.screen, "B")
    ann.type("abc")
    bob.arrow("left" if bx == 7 else "right")
    ann.screen.wait_for(lambda s: where(s, "B") != [(bx, by)], what="the move")
    ann.type("d")
    ann.screen.wait_for(lambda s: s.rows()[-1] == "abcd", what="the typed line to go on where it was")


def test_leaving_by_esc_twice_or_play_gives_the_line_view_back(server, player):
    ann, bob = play(player("Ann")), player("Bob")
    start = square_of(server, "Ann")
    ann.key(b"\x1b")
    ann.key(b"\x1b")
    ann.screen.wait_for_text("* line view")
    assert not is_board_view(ann.screen)
    ann.arrow("right")  # no key any more: nothing moves
    bob.type("after")
    bob.enter()
    ann.screen.wait_for_text("Bob: after")
    assert square_of(server, "Ann") == start
    rows = ann.screen.rows()
    assert rows[0].startswith("* line view") and rows[1] == "Bob: after"  # lines from the top again
    play(ann)
    ann.type("/play")
    ann.enter()
    ann.screen.wait_for(lambda s: not is_board_view(s) and "* line view" in s.text(), what="the line view")


def test_joins_and_leaves_update_the_board_and_the_list(server, player):
    ann = play(player("Ann"))
    ann.screen.wait_for_text("1 online")
    assert len(where(ann.screen, ".")) == 63
    newcomer = Conn(server.port)
    newcomer.read_line()
    ann.screen.wait_for_text("2 online")
    ann.screen.wait_for(lambda s: len(where(s, "g")) == 1, what="the newcomer's piece")
    assert "* guest" in ann.screen.text()  # its joined notice, in the chat
    newcomer.send_line("/quit")
    ann.screen.wait_for_text("1 online")
    ann.screen.wait_for(lambda s: not where(s, "g"), what="the piece to go")


def test_a_resize_redraws_and_a_small_window_gets_the_line_view_until_it_grows(server, player):
    ann = play(player("Ann"))
    ann.resize(60, 30)
    ann.screen.wait_for(lambda s: is_board_view(s) and s.cursor() == (29, 0), what="the view at 60x30")
    ann.resize(40, 12)
    wait_for_words(ann.screen, "* the board needs a window of 46x14, this one is 40x12")
    assert not is_board_view(ann.screen)
    ann.resize(80, 24)
    ann.screen.wait_for(is_board_view, what="the board again")
    assert ann.screen.cursor() == (23, 0)


def test_a_small_window_asking_for_play_gets_a_note(server, player):
    ann = player("Ann", columns=30, rows=10)
    ann.type("/play")
    ann.enter()
    wait_for_words(ann.screen, "* the board needs a window of 46x14, this one is 30x10: line view until it grows")


def test_movers_bots_beside_board_viewers(server, player, wine, server_io):
    """client.exe --mix move bots never ask for the view; their moves are drawn on the viewers' boards,
    which after hundreds of moves are what /board says."""
    ann, bob = play(player("Ann")), play(player("Bob"))
    rate = 20 if server_io == "whole" else 4  # one completion a byte: what Wine's server carries in time
    proc = wine.run("client.exe", ["--bots", "20", "--duration", "5", "--rate", str(rate), "--mix", "move", "127.0.0.1",
                                   str(server.port)], capture_output=True, timeout=120)
    output = proc.stdout.decode()
    assert proc.returncode == 0, output[-3000:]
    assert " errors=0" in output.split("RESULT")[-1]
    for viewer in (ann, bob):
        viewer.screen.wait_for_text("2 online")
        viewer.screen.wait_for(lambda s: len(where(s, ".")) == 62, what="the bots' pieces gone")
    stats = server.stats()
    assert stats["board_views"] == 2 and stats["lines_in"] > 20 * rate * 5 // 2
    # The board drawn square by square matches the room's, as /board prints it in the chat.
    ann.type("/board")
    ann.enter()
    ann.screen.wait_for(lambda s: s.rows()[-2].startswith("  0 1 2 3 4 5 6 7"), what="/board in the chat")
    printed = [row[2::2] for row in ann.screen.rows()[-10:-2]]
    assert printed == board(ann.screen)


# ---- A real telnet in tmux ----------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("telnet") is None or shutil.which("tmux") is None,
                    reason="telnet (inetutils-telnet) or tmux is not installed")
def test_real_telnet_in_tmux_plays(server, player, tmp_path):
    socket_path = str(tmp_path / "tmux.sock")
    tmux = ["tmux", "-S", socket_path, "-f", "/dev/null"]
    subprocess.run(tmux + ["new-session", "-d", "-x", "80", "-y", "24", "telnet", "127.0.0.1", str(server.port)],
                   check=True, env={"PATH": "/usr/bin:/bin", "TERM": "xterm", "HOME": str(tmp_path)})

    def pane():
        return subprocess.run(tmux + ["capture-pane", "-p"], capture_output=True, text=True).stdout

    def wait_for(predicate, what):
        deadline = time.monotonic() + 20
        while not predicate(pane()):
            assert time.monotonic() < deadline, f"timed out waiting for {what}; the pane:\n{pane()}"
            time.sleep(0.05)

    def keys(*names):
        subprocess.run(tmux + ["send-keys"] + list(names), check=True)

    try:
        wait_for(lambda p: "* welcome guest" in p, "the welcome")
        keys("C-]")  # telnet's escape character: its own prompt, where it is put in character mode
        wait_for(lambda p: "telnet>" in p, "telnet's prompt")
        keys("mode character", "Enter")
        keys("/nick Tux", "Enter")
        wait_for(lambda p: "is now Tux" in p, "the nick")
        ann = play(player("Ann"))
        keys("/play", "Enter")
        wait_for(lambda p: "  0 1 2 3 4 5 6 7" in p and "@ Tux (" in p, "tmux's board view")
        ann.screen.wait_for(lambda s: len(where(s, "T")) == 1, what="Tux on Ann's board")
        (tx, ty), = where(ann.screen, "T")
        step = -1 if tx == 7 else 1
        shown = glyph_after_move(ann.screen, (tx + step, ty), "T")
        keys("Left" if step < 0 else "Right")
        ann.screen.wait_for(lambda s: board(s)[ty][tx] == "." and board(s)[ty][tx + step] == shown,
                            what="Tux's move on Ann's board")
        wait_for(lambda p: f"@ Tux ({tx + step},{ty})" in p, "tmux's own list")
        row = pane().splitlines()[ty]
        assert row[2 + 2 * (tx + step)] == "@"
        keys("Escape", "Escape")
        wait_for(lambda p: "* line view" in p and "  0 1 2 3 4 5 6 7" not in p, "the line view in tmux")
    finally:
        subprocess.run(tmux + ["kill-server"], capture_output=True)
