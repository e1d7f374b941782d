"""Two people on the real `telnet` program (Debian's inetutils-telnet), driven with pexpect."""
import shutil

import pytest

pexpect = pytest.importorskip("pexpect")
pytestmark = pytest.mark.skipif(shutil.which("telnet") is None, reason="telnet is not installed")


def telnet(server):
    session = pexpect.spawn("telnet", ["127.0.0.1", str(server.port)], encoding="utf-8", timeout=20)
    session.expect(r"\* welcome (guest\d+), \d+ online - /help lists commands")
    return session, session.match.group(1)


def test_two_telnet_users_chat_rename_move_and_quit(server):
    ann, ann_nick = telnet(server)
    ben, ben_nick = telnet(server)
    ann.expect_exact(f"* {ben_nick} joined")

    ann.sendline("hello ben")
    ben.expect_exact(f"{ann_nick}: hello ben")

    ben.sendline("/nick Ben")
    ann.expect_exact(f"* {ben_nick} is now Ben")
    ben.expect_exact(f"* {ben_nick} is now Ben")

    ann.sendline("/move down")
    ben.expect(rf"MOVE {ann_nick} \d \d")
    ben.sendline("/board")
    ben.expect_exact("  0 1 2 3 4 5 6 7")

    ben.sendline("/quit")
    ben.expect_exact("* bye")
    ben.expect(pexpect.EOF)  # telnet says "Connection closed by foreign host." and exits
    ann.expect_exact("* Ben left")

    ann.sendline("/ping still here")
    ann.expect_exact("PONG still here")
    ann.sendline("/quit")
    ann.expect(pexpect.EOF)
    ann.close()
    ben.close()
    assert ann.exitstatus is not None and ben.exitstatus is not None
