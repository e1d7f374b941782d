"""The operator's console (PRODUCT.md, "Operator console"): every command typed into server.exe's
standard input, a pipe here, with its effect seen by real clients; the trace of one connection's
life; and client.exe's bots in every mix against a server whose I/O is forced short."""
import re
import pytest

from tests.harness import Conn

TRACE = re.compile(r"^trace t_us=(\d+) op=(ACCEPT|RECV|SEND) slot=(\S+) gen=(\d+) bytes=(\d+) err=(\d+) "
                   r"pending=(\d+) queued=(\d+) state=(\w+)$")


@pytest.fixture
def server(start_server):
    return start_server("--line-rate", "0", console=True)


def member(server, nick=None, source="127.0.0.1"):
    """A connected client (from `source`), past its welcome, renamed to `nick` when given."""
    conn = Conn(server.port, source=source)
    welcome = conn.read_line()
    assert welcome.startswith("* welcome guest"), welcome
    if nick:
        conn.send_line(f"/nick {nick}")
        conn.read_until(lambda l: l.endswith(f"is now {nick}"))
    return conn


def read_to_eof(conn):
    """Every line until the server closes the connection (gracefully: no reset)."""
    lines = []
    while True:
        try:
            lines.append(conn.read_line())
        except EOFError:
            return lines


def test_help_lists_every_command_and_a_mistake_points_at_it(server):
    server.console("help", lambda l: l.startswith("  quit"))
    listed = [l.split()[0] for l in server.lines if l.startswith("  ")]
    for word in ("help", "stats", "who", "kick", "ban", "bans", "unban", "mute", "unmute", "say", "motd", "trace",
                 "slot", "quit"):
        assert word in listed
    assert "help" in server.console("dance", lambda l: l.startswith("error:"))
    assert "help" in server.console("kick", lambda l: l.startswith("error:"))
    assert "help" in server.console("ban 300.1.1.1", lambda l: l.startswith("error:"))
    assert "help" in server.console("mute nobody", lambda l: l.startswith("error:"))
    assert "help" in server.console("slot 999999999", lambda l: l.startswith("error:"))
    assert "help" in server.console("trace many", lambda l: l.startswith("error:"))


def test_stats_and_who(server):
    ann, bob = member(server, "ann"), member(server, "bob")
    stats = server.console("stats", lambda l: l.startswith("stats "))
    assert " online=2 " in stats
    server.console("who", lambda l: "nick=bob" in l)
    rows = [l for l in server.lines if l.startswith("slot=")]
    assert any(re.match(r"slot=\d+ nick=ann peer=127\.0\.0\.1:\d+ square=\d,\d .*muted=no", l) for l in rows), rows
    ann.close(), bob.close()


def test_kick_closes_gracefully_and_tells_the_others(server):
    ann, bob = member(server, "ann"), member(server, "bob")
    server.console("kick bob spamming", lambda l: l == "kicked bob")
    assert read_to_eof(bob) == ["* kicked by the operator: spamming"]
    assert ann.read_until(lambda l: "kicked" in l)[-1] == "* bob was kicked"
    assert server.console("kick bob", lambda l: l.startswith("error:")).startswith("error: no member goes by bob")
    ann.close()


def test_a_ban_kicks_the_address_and_refuses_it_before_it_joins(server):
    watcher = member(server, "watcher")
    banned = member(server, "visitor", source="127.0.0.2")
    watcher.read_until(lambda l: l.endswith("is now visitor"))
    server.console("ban 127.0.0.2", lambda l: l.startswith("banned 127.0.0.2"))
    assert read_to_eof(banned) == ["* kicked by the operator: banned"]
    assert watcher.read_line() == "* visitor was kicked"
    again = Conn(server.port, source="127.0.0.2")
    assert read_to_eof(again) == ["ERR banned"]
    other = member(server)  # another address is welcome
    assert watcher.read_line().endswith("joined")  # the newcomer's, never the banned one's
    server.console("bans", lambda l: l.strip().startswith("127.0.0.2 "))
    assert server.console("unban 127.0.0.2", lambda l: l.startswith("unbanned")) == "unbanned 127.0.0.2"
    member(server, source="127.0.0.2").close()
    watcher.close(), other.close()


def test_a_ban_ends_on_time(server):
    server.console("ban 127.0.0.3 0.1", lambda l: l.startswith("banned 127.0.0.3"))  # six seconds
    assert read_to_eof(Conn(server.port, source="127.0.0.3")) == ["ERR banned"]
    server.wait_for_line(lambda l: l == "ban of 127.0.0.3 ended", timeout=30)
    member(server, source="127.0.0.3").close()


def test_mute_holds_back_a_members_words_until_unmuted_or_ended(server):
    ann, bob = member(server, "ann"), member(server, "bob")
    ann.read_until(lambda l: l.endswith("is now bob"))
    server.console("mute bob", lambda l: l.startswith("muted bob"))
    bob.send_line("can anyone hear me")
    assert bob.read_line() == "ERR you are muted (10 more minutes)"
    assert bob.command("/ping still answered", "PONG") == "PONG still answered"
    server.console("unmute bob", lambda l: l == "unmuted bob")
    bob.send_line("now you can")
    assert ann.read_line() == "bob: now you can"  # and nothing of the muted line before it
    server.console("mute bob 0.05", lambda l: l.startswith("muted bob"))  # three seconds
    bob.send_line("muted again")
    assert bob.read_until(lambda l: l.startswith("ERR"))[-1] == "ERR you are muted (1 more minutes)"
    server.wait_for_line(lambda l: l == "mute of bob ended", timeout=30)
    bob.send_line("free")
    assert ann.read_line() == "bob: free"
    ann.close(), bob.close()


def test_say_and_motd(server):
    ann = member(server)
    server.console("say the server restarts at noon", lambda l: l.startswith("said to 1"))
    assert ann.read_line() == "* [server] the server restarts at noon"
    server.console("motd be kind to each other", lambda l: l == "motd set")
    newcomer = server.connect()
    assert newcomer.read_line().startswith("* welcome guest")
    assert newcomer.read_line() == "* motd: be kind to each other"
    server.console("motd off", lambda l: l == "motd off")
    later = server.connect()
    later.read_line()
    assert later.command("/ping x", "PONG") == "PONG x"  # the first line after the welcome: no motd
    ann.close(), newcomer.close(), later.close()


def test_slot_shows_the_core_and_the_session(server):
    ann = member(server, "ann")
    server.console("who", lambda l: "nick=ann" in l)
    slot = next(l for l in server.lines if "nick=ann" in l).split()[0].split("=")[1]
    core = ""
    while "recv=posted" not in core:  # its next receive is posted at the end of the loop's turn
        core = server.console(f"slot {slot}", lambda l: l.startswith(f"slot {slot} state="))
    assert re.search(r"state=Open gen=\d+ pending=1 recv=posted send=idle queued=0 in_flight=0 paused=no", core), core
    session = server.console(f"slot {slot}", lambda l: l.startswith(f"slot {slot} budget="))
    assert "terminal=lines view=lines window=80x24 encoding=utf8" in session
    ann.close()


def test_trace_follows_one_connection_from_accept_to_release(server):
    server.console("trace 100", lambda l: l.startswith("trace: the next 100"))
    conn = server.connect()
    conn.read_line()
    assert conn.command("/ping traced", "PONG") == "PONG traced"
    # Kicked while its next receive is posted (it is posted at the end of the loop's turn), so the
    # close and the release are two completions apart: the send of the last line, then the receive
    # the close cancelled.
    while "recv=posted" not in server.console("slot 0", lambda l: l.startswith("slot 0 state=")):
        pass
    server.console("kick guest1", lambda l: l == "kicked guest1")
    assert read_to_eof(conn) == ["* kicked by the operator"]
    server.wait_for_line(lambda l: TRACE.match(l) is not None and l.endswith(" state=Free"))  # its release
    server.console("trace off", lambda l: l == "trace off")
    traced = [TRACE.match(l).groups() for l in server.lines if TRACE.match(l)]
    ops = [(op, state) for _, op, slot, _, _, _, _, _, state in traced]
    assert ops[0] == ("ACCEPT", "Open"), ops
    assert ("RECV", "Open") in ops and ("SEND", "Open") in ops
    assert any(o[1] in ("Draining", "Closed") for o in ops), "\n".join(server.lines)
    closed = ops.index(next(o for o in ops if o[1] in ("Draining", "Closed")))  # the close
    released = ops.index(next(o for o in ops if o[1] == "Free"))  # the slot's release
    assert ops.index(("RECV", "Open")) < closed <= released
    assert ops[released][0] == "RECV" and int(traced[released][6]) == 0  # the cancelled receive, nothing pending
    times = [int(t[0]) for t in traced]
    assert times == sorted(times) and len({t[2] for t in traced}) == 1


def test_the_end_of_input_stops_the_reading_not_the_server(server):
    server.proc.stdin.close()
    conn = member(server)
    assert conn.command("/ping still here", "PONG") == "PONG still here"
    conn.close()


def test_quit_stops_the_server_as_ctrl_c_does(server):
    conn = member(server)
    server.type("quit")
    assert server.wait() == 0
    assert "* server shutting down" in read_to_eof(conn)


# ---- Forced short I/O ---------------------------------------------------------------------------

SHORT_IO = ("--recv-chunk", "1", "--send-chunk", "7")


@pytest.mark.parametrize("mix", ["ping", "move", "chat"])
def test_bots_pass_against_forced_short_io(start_server, wine, mix):
    server = start_server("--line-rate", "0", *SHORT_IO)
    proc = wine.run("client.exe", ["--bots", "10", "--duration", "5", "--rate", "2", "--mix", mix, "127.0.0.1",
                                   str(server.port)], capture_output=True, timeout=180)
    out = proc.stdout.decode()
    assert proc.returncode == 0 and " errors=0 " in out.split("RESULT")[-1], out[-3000:]
    stats = server.stats()
    assert stats["recv_calls"] > stats["bytes_in"] // 2  # about one receive a byte: it was short


def test_echo_bots_pass_against_forced_short_io(start_server, wine):
    server = start_server("--echo", *SHORT_IO)
    proc = wine.run("client.exe", ["--bots", "10", "--duration", "5", "--rate", "2", "--mix", "echo", "127.0.0.1",
                                   str(server.port)], capture_output=True, timeout=180)
    out = proc.stdout.decode()
    assert proc.returncode == 0 and " errors=0 " in out.split("RESULT")[-1], out[-3000:]
