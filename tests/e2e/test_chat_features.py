"""A chat people stay in (issue 24), on the real server: /msg and /reply following a connection,
/me, /away and idle times in /who, /ignore, /history, Hangul nicks (in /who, /msg, /board and the
board view, drawn by pyte, and from a CP949 console), the Korean input key left on, and a web
client's request kept out of the room."""
import http.client
import re
import shutil
import socket
import subprocess
import time

import pytest

from tests.harness import Reader
from tests.terminals import Screen, WindowsTelnet

WELCOME = re.compile(r"^\* welcome (guest\d+), (\d+) online - /help lists commands$")
HAN, GEUL = "한", "글"


def member(server, nick=None):
    """A line client, welcomed and, with `nick`, renamed; what it was sent so far is read."""
    conn = server.connect()
    assert WELCOME.match(conn.read_line())
    if nick:
        conn.send_line(f"/nick {nick}")
        conn.read_until(lambda line: line.endswith(f" is now {nick}"))
    return conn


def sync(conn, token="sync"):
    """Every line the server queued for `conn` before this call: a /ping's PONG comes after them."""
    conn.send_line(f"/ping {token}")
    return conn.read_until(lambda line: line == f"PONG {token}")[:-1]


def said_lines(lines):
    """The lines of `lines` that a member originated (chat, /me, private), not the server's notices."""
    return [line for line in lines if not line.startswith(("* ", "MOVE ", "PONG", "ERR "))]


# ---- /msg and /reply ------------------------------------------------------------------------------------

def test_msg_and_reply_follow_the_connection_not_the_name(server):
    ann, bob, cy = member(server, "ann"), member(server, "bob"), member(server, "cy")
    for conn in (ann, bob, cy):
        sync(conn)
    assert ann.command("/msg bob hello there", "[msg]") == "[msg] to bob: hello there"
    assert bob.read_line() == "[msg] from ann: hello there"
    assert ann.command("/w BOB second", "[msg]") == "[msg] to bob: second"  # a short form, a nick in any case
    assert bob.read_line() == "[msg] from ann: second"
    assert said_lines(sync(cy)) == []  # nobody else saw either
    ann.command("/nick annie", "* ann is now annie")
    assert bob.command("/r got it", "[msg]") == "[msg] to annie: got it"  # the rename did not lose it
    assert ann.read_until(lambda l: l.startswith("[msg]"))[-1] == "[msg] from bob: got it"
    assert ann.command("/msg nobody hi", "ERR") == "ERR no such nick nobody"
    assert cy.command("/reply hi", "ERR") == "ERR no one to reply to"
    ann.send_line("/quit")
    assert ann.read_until(lambda l: l == "* bye")
    bob.read_until(lambda l: l == "* annie left")
    newcomer = member(server, "annie")  # the same name, perhaps the same slot: another connection
    assert bob.command("/reply are you still there", "ERR") == "ERR annie has left"
    assert said_lines(sync(newcomer)) == []


def test_private_lines_pay_the_input_budget_and_arrive_in_order(start_server):
    server = start_server("--line-rate", "5", "--line-burst", "5")
    ann, bob = member(server, "ann"), member(server, "bob")
    sync(ann), sync(bob)
    ann.send("".join(f"/msg bob private {n:02d}\r\n" for n in range(15)))
    got = bob.read_until(lambda l: l == "[msg] from ann: private 14")
    assert [l for l in got if l.startswith("[msg]")] == [f"[msg] from ann: private {n:02d}" for n in range(15)]
    assert server.stats()["throttled"] >= 1  # the burst was spent: ann was not read for a while


def test_private_lines_to_a_member_who_does_not_read_drop_it_as_a_slow_consumer(start_server):
    server = start_server("--line-rate", "0")
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # and it never reads
    slow.connect(("127.0.0.1", server.port))
    slow.sendall(b"/nick slow\r\n")
    slow_port = slow.getsockname()[1]
    sender = member(server, "sender")
    reader = Reader(sender)  # the sender takes its own copies as they come
    text = "x" * 400
    dropped = None
    for start in range(0, 4000, 50):  # up to 1.6 MB of private lines, until the server gives up on it
        sender.send("".join(f"/msg slow {n:04d} {text}\r\n" for n in range(start, start + 50)))
        try:
            dropped = server.wait_for_line(lambda l: l.startswith("disconnect") and f":{slow_port} " in l, timeout=0.05)
            break
        except AssertionError:
            pass
    assert dropped and "reason=slow consumer" in dropped
    assert server.stats()["slow_dropped"] == 1
    assert any(l.startswith("[msg] to slow: ") for l in reader.lines) and reader.error is None
    slow.close()


# ---- /me ---------------------------------------------------------------------------------------------------

def test_me_is_an_action_with_two_stars_and_needs_its_text(server):
    ann, bob = member(server, "ann"), member(server, "bob")
    sync(ann)
    assert ann.command("/me waves at everyone", "**") == "** ann waves at everyone"
    assert bob.read_until(lambda l: l.startswith("**"))[-1] == "** ann waves at everyone"
    assert ann.command("/me", "ERR") == "ERR usage: /me text"
    assert said_lines(sync(bob)) == []


# ---- /away, idle, /who --------------------------------------------------------------------------------------

def who_entries(conn):
    """/who as {nick: the text after "nick (x,y)"}."""
    conn.send_line("/who")
    line = conn.read_until(lambda l: re.match(r"\* \d+ online: ", l))[-1]
    return {nick: rest for nick, rest in re.findall(r"(\S+) \(\d,\d\)((?: \[[^\]]+\])*)", line)}


def test_away_and_idle_show_in_who_and_a_msg_to_an_away_member_tells_the_sender(server):
    talker, mover, quiet = (member(server, n) for n in ("talker", "mover", "quiet"))
    typist_terminal = WindowsTelnet(server.port)  # keystrokes that make no line
    typist_terminal.screen.wait_for_text("* welcome")
    typist_terminal.type("/nick typist2")
    typist_terminal.enter()
    typist_terminal.screen.wait_for_text("is now typist2")
    assert quiet.command("/away out for lunch", "* you") == "* you are away: out for lunch"
    assert who_entries(talker)["quiet"] == " [away]"
    assert talker.command("/msg quiet are you there", "* quiet") == "* quiet is away: out for lunch"
    assert quiet.read_until(lambda l: l.startswith("[msg]"))[-1] == "[msg] from talker: are you there"
    started = time.monotonic()
    while time.monotonic() - started < 62:  # a minute and a little, the talker talking, the others not
        talker.send_line("still here")
        mover.send_line("/move " + ("up" if int(time.monotonic() - started) % 2 else "down"))
        typist_terminal.type("ab")
        typist_terminal.backspace(2)
        time.sleep(5)
    entries = who_entries(talker)
    assert entries["talker"] == ""
    assert entries["mover"] == " [idle 1m]" and entries["typist2"] == " [idle 1m]"  # moves, keys: not lines said
    assert entries["quiet"] == " [away] [idle 1m]"
    assert quiet.command("/away", "* you") == "* you are back"
    quiet.command("/me is back", "** quiet")
    assert who_entries(talker)["quiet"] == ""
    for conn in (talker, mover, quiet):  # nobody was sent anything about anyone's away on its own
        assert not [l for l in sync(conn, "end") if "away" in l and not l.startswith("** ")]
    typist_terminal.close()


# ---- /ignore ---------------------------------------------------------------------------------------------------

def test_ignore_keeps_every_line_an_ignored_member_says_from_the_ignorer_only(server):
    ann, bob, cy = member(server, "ann"), member(server, "bob"), member(server, "cy")
    for conn in (ann, bob, cy):
        sync(conn)
    assert ann.command("/ignore bob", "* ignoring") == "* ignoring bob"
    bob.send_line("hello everyone")
    bob.send_line("/me dances")
    bob.send_line("/msg ann psst")
    assert bob.read_until(lambda l: l.startswith("[msg]"))[-1] == "[msg] to ann: psst"  # bob is not told
    bob.command("/nick bobby", "* bob is now")  # a rename does not escape it; the notice is the server's
    assert said_lines(sync(cy)) == ["bob: hello everyone", "** bob dances"]
    seen = sync(ann)
    assert said_lines(seen) == [] and "* bob is now bobby" in seen
    assert ann.command("/ignore", "* ignoring") == "* ignoring: bobby"
    assert ann.command("/unignore bobby", "* no longer") == "* no longer ignoring bobby"
    bob.command("heard again", "bobby: heard again")
    assert said_lines(sync(ann)) == ["bobby: heard again"]
    assert ann.command("/ignore bobby", "* ignoring") == "* ignoring bobby"
    bob.close()
    ann.read_until(lambda l: l == "* bobby left")
    newcomer = member(server, "bobby")  # the ignore ended when bobby left
    newcomer.command("a new bobby", "bobby: a new bobby")
    assert said_lines(sync(ann)) == ["bobby: a new bobby"]
    assert ann.command("/ignore", "* ignoring") == "* ignoring nobody"


def test_a_member_ignores_at_most_sixteen(server):
    ann = member(server, "ann")
    others = [member(server, f"m{n}") for n in range(17)]
    for n in range(16):
        assert ann.command(f"/ignore m{n}", "* ignoring") == f"* ignoring m{n}"
    assert ann.command("/ignore m16", "ERR") == "ERR you ignore 16 already: /unignore one first"
    for conn in others:
        conn.close()


# ---- /history -------------------------------------------------------------------------------------------------

def test_history_gives_the_last_public_lines_oldest_first(server):
    ann, bob = member(server, "ann"), member(server, "bob")
    for n in range(12):  # one after the other: each waits for its own line to come back
        nick, conn = ("ann", ann) if n % 2 == 0 else ("bob", bob)
        conn.command(f"line {n}", f"{nick}: line {n}")
    bob.command("/me yawns", "** bob")
    ann.command("/msg bob never in history", "[msg]")
    late = member(server, "late")  # was not there when it was all said
    late.send_line("/history")
    got = late.read_until(lambda l: l == "* end of history")
    assert got == [f"{'ann' if n % 2 == 0 else 'bob'}: line {n}" for n in range(3, 12)] + ["** bob yawns",
                                                                                             "* end of history"]
    late.send_line("/history 2")
    assert late.read_until(lambda l: l == "* end of history") == ["bob: line 11", "** bob yawns", "* end of history"]
    assert late.command("/history none", "ERR") == "ERR usage: /history [N] (N from 1, at most 32)"


# ---- Hangul nicks -------------------------------------------------------------------------------------------

def board_squares(screen, top=0):
    """The 8x8 board drawn from row `top` of a pyte screen: what column 2 + 2x of each row holds."""
    buffer = screen.screen.buffer
    return [[buffer[top + y][2 + 2 * x].data for x in range(8)] for y in range(8)]


def test_hangul_nicks_in_who_msg_and_a_board_that_stays_aligned_on_a_rendered_screen(server):
    korean = member(server, HAN + GEUL)
    ann = member(server, "ann")
    sync(korean)
    assert f"{HAN}{GEUL} (" in ann.command("/who", "* 2 online")
    assert ann.command(f"/msg {HAN}{GEUL} 안녕", "[msg]") == f"[msg] to {HAN}{GEUL}: 안녕"
    assert korean.read_until(lambda l: l.startswith("[msg]"))[-1] == "[msg] from ann: 안녕"
    assert ann.command(f"/nick {HAN}{GEUL}", "ERR") == f"ERR nick {HAN}{GEUL} is taken"
    assert ann.command("/nick ㅎ", "ERR").startswith("ERR invalid nick")
    ann.send_line("/board")
    rows = ann.read_until(lambda l: l.startswith("  0 1"))[-9:]
    screen = Screen(40, 10)
    screen.feed("\r\n".join(rows).encode())
    squares = board_squares(screen)
    assert sum(row.count(HAN) for row in squares) == 1 and sum(row.count("@") for row in squares) == 1
    for y, row in enumerate(squares):
        assert all(cell in (".", "@", HAN) for cell in row)  # every square in its column, none shifted
        assert screen.screen.buffer[y][0].data == str(y)
    assert [screen.screen.buffer[8][2 + 2 * x].data for x in range(8)] == [str(x) for x in range(8)]


def play(terminal):
    terminal.type("/play")
    terminal.enter()
    terminal.screen.wait_for(lambda s: s.rows()[8].startswith("  0 1 2 3 4 5 6 7"), what="the board view")
    return terminal


def test_a_hangul_nick_on_the_board_view_and_its_list_stays_aligned_as_it_moves(server):
    ann = WindowsTelnet(server.port)
    korean = WindowsTelnet(server.port, encoding="cp949")  # a Korean console: the nick typed in CP949
    for terminal, nick in ((ann, "ann"), (korean, HAN + GEUL)):
        terminal.screen.wait_for_text("* welcome")
        terminal.type(f"/nick {nick}")
        terminal.enter()
        terminal.screen.wait_for_text(f"is now {nick}")
    play(ann), play(korean)
    ann.screen.wait_for(lambda s: sum(r.count(HAN) for r in board_squares(s)) == 1, what="한 on ann's board")
    assert any(f"{HAN}{GEUL} (" in row for row in ann.screen.rows()[:9])  # the list beside the board
    for _ in range(3):
        (x, y), = [(x, y) for y, r in enumerate(board_squares(ann.screen)) for x, c in enumerate(r) if c == HAN]
        korean.arrow("left" if x == 7 else "right")
        ann.screen.wait_for(lambda s: board_squares(s)[y][x] in (".", "@", "+"), what="한 to move")
        ann.screen.wait_for(lambda s: sum(r.count(HAN) for r in board_squares(s)) == 1, what="한 drawn again")
        squares = board_squares(ann.screen)
        assert all(cell in (".", "@", "+", HAN) for row in squares for cell in row)
        buffer = ann.screen.screen.buffer
        for row in range(8):
            assert all(buffer[row][1 + 2 * x].data in (" ", "") for x in range(8))  # the spaces between squares
    (x, y), = [(x, y) for y, r in enumerate(board_squares(ann.screen)) for x, c in enumerate(r) if c == HAN]
    assert any(f"{HAN}{GEUL} ({x},{y})" in row for row in ann.screen.rows()[:9])
    (mx, my), = [(x, y) for y, r in enumerate(board_squares(korean.screen)) for x, c in enumerate(r) if c == "@"]
    assert (mx, my) == (x, y)  # the CP949 console's own board agrees
    ann.close(), korean.close()


def read_raw_until(conn, marker):
    """The bytes a connection is sent, up to the end of the line holding `marker` (bytes)."""
    while marker not in conn.buf or not conn.buf[conn.buf.index(marker):].count(b"\r\n"):
        conn.buf += conn.sock.recv(65536)
    end = conn.buf.index(b"\r\n", conn.buf.index(marker)) + 2
    data, conn.buf = conn.buf[:end], conn.buf[end:]
    return data


def test_a_cp949_console_sets_and_sees_hangul_nicks(server):
    korean = server.connect()
    assert WELCOME.match(korean.read_line())
    ann = member(server, "ann")
    korean.send("/nick 한글\r\n".encode("cp949"))  # the Korean Windows console's code page
    assert ann.read_until(lambda l: "is now" in l)[-1].endswith(" is now 한글")  # UTF-8 for ann
    korean.send_line("/who")
    got = read_raw_until(korean, b"online:").decode("cp949")
    assert " is now 한글\r\n" in got and "한글 (" in got  # and CP949 for the console
    korean.send("/msg ann 안녕\r\n".encode("cp949"))
    assert ann.read_until(lambda l: l.startswith("[msg]"))[-1] == "[msg] from 한글: 안녕"
    assert read_raw_until(korean, b"[msg]").decode("cp949").endswith("[msg] to ann: 안녕\r\n")


# ---- The Korean input key left on (한/영) ----------------------------------------------------------------------

def test_commands_typed_with_the_korean_input_on_are_read_as_their_keys(server):
    ann = member(server, "ann")
    bob = member(server, "bob")
    sync(ann)
    ann.send_line("/좨")
    got = ann.read_until(lambda l: l.startswith("* 2 online"))
    assert got == ["* read /좨 as /who (한/영 key)", got[-1]]
    x, y = map(int, re.search(r"ann \((\d),(\d)\)", got[-1]).groups())
    ann.send_line("/ㅡㅐㅍㄷ ㅕ")  # /move u
    assert ann.read_until(lambda l: l.startswith("MOVE ann")) == ["* read /ㅡㅐㅍㄷ ㅕ as /move u (한/영 key)",
                                                                  f"MOVE ann {x} {max(y - 1, 0)}"]
    ann.send_line("/ㅡㄴㅎ bob 안녕")  # /msg, the text as typed
    assert ann.read_until(lambda l: l.startswith("[msg]")) == ["* read /ㅡㄴㅎ bob 안녕 as /msg bob 안녕 (한/영 key)",
                                                               "[msg] to bob: 안녕"]
    assert bob.read_until(lambda l: l.startswith("[msg]"))[-1] == "[msg] from ann: 안녕"
    assert ann.command("/안녕", "ERR") == "ERR unknown command /안녕 (try /help)"  # spells nothing


def test_a_korean_windows_console_with_the_korean_input_on_types_commands(server):
    """telnet.exe on a Korean Windows, 한/영 on: each key a CP949 character, sent as it is typed."""
    korean = WindowsTelnet(server.port, encoding="cp949")
    korean.screen.wait_for_text("* welcome")
    korean.type("/ㅜㅑ차 " + HAN)  # /nick 한, the nick as typed
    korean.enter()
    korean.screen.wait_for_text(f"* guest1 is now {HAN}")
    assert f"* read /ㅜㅑ차 {HAN} as /nick {HAN} (한/영 key)" in korean.screen.text()
    korean.type("/좨")
    korean.enter()
    korean.screen.wait_for_text(f"* 1 online: {HAN} (")
    assert "* read /좨 as /who (한/영 key)" in korean.screen.text()
    korean.close()


# ---- Not HTTP --------------------------------------------------------------------------------------------------

HTTP_ANSWER = (b"HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\n\r\n"
               b"This is a telnet chat server, not a web server: connect to this host and port with telnet or "
               b"client.exe.\r\n")


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_a_form_posted_by_curl_is_answered_400_and_never_reaches_the_room(server):
    watcher = member(server, "watcher")
    form = "name=mallory&text=hello\r\n/me was here\r\nplain chat line\r\n/nick evil\r\n"
    done = subprocess.run(["curl", "-sS", "--http0.9", "--max-time", "20", "--data-binary", form,
                           f"http://127.0.0.1:{server.port}/chat"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    welcome, answer = done.stdout.split(b"\r\n", 1)
    assert WELCOME.match(welcome.decode())  # the server greets every connection as it opens
    assert answer == HTTP_ANSWER  # then the web's answer, and the close
    seen = sync(watcher)
    assert said_lines(seen) == []
    assert len(seen) == 2 and seen[0].endswith(" joined") and seen[1].endswith(" left")


def test_a_form_posted_by_python_http_client_never_reaches_the_room(server):
    watcher = member(server, "watcher")
    client = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    client.request("POST", "/", body="msg=hi+all\r\nsecond line\r\n",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises((http.client.HTTPException, ConnectionError)):  # the welcome line is no status line
        client.getresponse()
    client.close()
    # It was welcomed, so it was online; the room hears it leave, and nothing it sent in between.
    seen = watcher.read_until(lambda line: line.endswith(" left"))
    assert said_lines(seen) == []
    assert watcher.stats()["online"] == 1


def test_a_get_request_line_gets_the_answer_and_the_close(server):
    watcher = member(server, "watcher")
    browser = server.connect()
    assert WELCOME.match(browser.read_line())
    browser.send(b"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert browser.read_to_eof() == HTTP_ANSWER
    assert said_lines(sync(watcher)) == []
    assert watcher.command("still fine", "watcher:") == "watcher: still fine"  # the server goes on as before


# ---- /help ------------------------------------------------------------------------------------------------------

def test_help_lists_every_command_with_its_short_forms(server):
    conn = member(server)
    conn.send_line("/help")
    lines = conn.read_until(lambda l: l.startswith("*   /quit"))
    syntax = [l[4:20].rstrip() for l in lines if l.startswith("*   ")]
    assert syntax == ["text", "/nick NAME", "/msg NICK text", "/reply text", "/me text", "/away [text]", "/who",
                      "/ignore [NICK]", "/unignore NICK", "/history [N]", "/move DIR", "/board", "/play",
                      "/ping TOKEN", "/stats", "/encoding NAME", "/help", "/quit"]
    text = "\n".join(lines)
    assert "(also /m, /w)" in text and "(also /r)" in text
    assert "(at most 16)" in text and "(10, at most 32)" in text and "1-16 of" in text
