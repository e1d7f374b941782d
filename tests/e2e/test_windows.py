"""What real Windows does that Wine does not show by itself, where Wine can be made to show it:
names that resolve to IPv6 first, dual-stack listening, console text, bot pacing, local ports."""
import re
import subprocess
import time

import pytest

from tests.harness import ON_WINDOWS, Conn
from test_client import error_rows, result_of

pexpect = pytest.importorskip("pexpect")
pyte = pytest.importorskip("pyte")


def with_hosts(wine, lines, command):
    """`command` run with `lines` added to /etc/hosts, in a mount namespace of its own (the rest of
    the machine keeps its hosts file); None where such a namespace cannot be made."""
    if ON_WINDOWS:
        return None
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        return None
    hosts = wine.prefix + "-hosts"
    with open("/etc/hosts") as f, open(hosts, "w") as out:
        out.write(f.read() + "".join(line + "\n" for line in lines))
    return ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', hosts] + command


def test_a_name_that_resolves_to_ipv6_first_still_connects(server, wine):
    # Windows resolves localhost to ::1 first; the server listens on IPv4 only. Every address
    # is tried in turn, in the interactive client and in the bots.
    lines = ["::1 dualstack-name", "127.0.0.1 dualstack-name"]
    interactive = with_hosts(wine, lines, wine.command("client.exe", ["dualstack-name", str(server.port)]))
    if interactive is None:
        pytest.skip("no mount namespace here to give a name an IPv6 address first")
    proc = subprocess.run(interactive, env=wine.env, input=b"/ping via-ipv4\n/quit\n", capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert "PONG via-ipv4" in proc.stdout.decode().splitlines()
    bots = with_hosts(wine, lines, wine.command("client.exe", ["--bots", "20", "--duration", "2", "dualstack-name",
                                                               str(server.port)]))
    proc = subprocess.run(bots, env=wine.env, capture_output=True, timeout=120)
    result = result_of(proc.stdout.decode())
    assert proc.returncode == 0 and result["connected"] == 20 and result["errors"] == 0, proc.stdout.decode()[-2000:]


def test_a_server_bound_to_ipv6_any_serves_ipv4_and_logs_plain_addresses(start_server):
    server = start_server("--bind", "::")
    with Conn(server.port, host="127.0.0.1") as v4:
        assert v4.read_line().startswith("* welcome")
        port = v4.sock.getsockname()[1]
        line = server.wait_for_line(lambda l: l.startswith("connect") and f":{port} " in l)
        assert f"peer=127.0.0.1:{port} " in line  # not ::ffff:127.0.0.1
    with Conn(server.port, host="::1") as v6:
        assert v6.read_line().startswith("* welcome")
        port = v6.sock.getsockname()[1]
        assert f"peer=[::1]:{port} " in server.wait_for_line(lambda l: l.startswith("connect") and f":{port} " in l)


class ConsoleClient:
    """client.exe in a terminal, so that its input and output are a console (Wine's), rendered."""

    def __init__(self, wine, port):
        command = wine.command("client.exe", ["127.0.0.1", str(port)])
        self.screen = pyte.Screen(100, 30)
        self.stream = pyte.ByteStream(self.screen)
        self.proc = pexpect.spawn(command[0], command[1:], env=dict(wine.env, LANG="C.UTF-8"), dimensions=(30, 100))

    def text(self):
        return "\n".join(line.rstrip() for line in self.screen.display)

    def wait_for(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while text not in self.text():
            assert time.monotonic() < deadline, f"{text!r} never appeared on:\n{self.text()}"
            try:
                self.stream.feed(self.proc.read_nonblocking(65536, timeout=0.2))
            except pexpect.TIMEOUT:
                pass

    def close(self):
        self.proc.send(b"/quit\r")
        self.proc.expect(pexpect.EOF, timeout=30)


@pytest.mark.skipif(ON_WINDOWS, reason="drives Wine's console through a terminal")
def test_console_text_goes_out_and_comes_in_as_utf8(server, wine):
    # Typed at a console, Korean and accented text reaches the others as UTF-8 (ReadConsoleW, not
    # ReadFile, which gives the console's code page); what others say appears as sent (WriteConsoleW).
    watcher = Conn(server.port)
    watcher.read_line()
    client = ConsoleClient(wine, server.port)
    try:
        client.wait_for("* welcome")
        client.proc.send("안녕하세요 héllo\r".encode())
        said = watcher.read_until(lambda l: "héllo" in l)[-1]
        assert said.endswith(": 안녕하세요 héllo")
        watcher.send_line("한국어 답장 ü")
        client.wait_for("한국어 답장 ü")
    finally:
        client.close()
        watcher.close()


def test_bots_act_at_the_rate_asked(start_server, wine):
    # 400 a second is a 2.5 ms interval: paced from the clock, not from whole milliseconds
    # (which made it 500), and not from the last wake-up (which a 15.6 ms timer tick slows down).
    server = start_server("--line-rate", "0")  # over the default input budget, on purpose
    proc = wine.run("client.exe", ["--bots", "2", "--rate", "400", "--duration", "5", "127.0.0.1", str(server.port)],
                    capture_output=True, timeout=120)
    result = result_of(proc.stdout.decode())
    assert proc.returncode == 0, proc.stdout.decode()[-2000:]
    assert abs(result["sent"] - 2 * 400 * 5) <= 0.03 * 2 * 400 * 5, result


def test_a_local_address_that_cannot_be_bound_is_reported_as_a_bind_failure(server, wine):
    proc = wine.run("client.exe", ["--bots", "3", "--duration", "1", "--source", "192.0.2.1", "127.0.0.1",
                                   str(server.port)], capture_output=True, timeout=60)
    output = proc.stdout.decode()
    assert proc.returncode == 1
    assert result_of(output)["failed"] == 3
    rows = error_rows(output)
    assert list(rows) == [next(name for name in rows if name.startswith("bind failed"))] and sum(rows.values()) == 3
    assert "bind failed: 10049" in proc.stderr.decode()


def test_bots_spread_over_the_source_addresses_asked(server, wine):
    proc = wine.run("client.exe", ["--bots", "6", "--duration", "1", "--source", "127.0.0.2+3", "127.0.0.1",
                                   str(server.port)], capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stdout.decode()[-2000:]
    peers = re.findall(r"^connect .* peer=(127\.0\.0\.\d+):\d+ ", server.output(), re.M)
    assert sorted(set(peers)) == ["127.0.0.2", "127.0.0.3", "127.0.0.4"] and len(peers) == 6
