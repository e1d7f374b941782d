"""client.exe end to end: the interactive client with piped input, and the bot stress tester
against the real server.exe."""
import re
import subprocess

from conftest import Process, exe_command, free_port

RESULT = re.compile(r"^RESULT (.*)$", re.M)


def run_client(exe_env, args, stdin=b"", timeout=120):
    return subprocess.run(exe_command("client.exe", args), env=exe_env, input=stdin, capture_output=True,
                          timeout=timeout)


def result_of(output):
    match = RESULT.search(output)
    assert match, "no RESULT line in:\n" + output[-3000:]
    return {k: float(v) for k, v in (kv.split("=") for kv in match.group(1).split())}


def bots(exe_env, server, *args, timeout=180):
    proc = run_client(exe_env, ["--bots"] + list(args) + ["127.0.0.1", str(server.port)], timeout=timeout)
    output = proc.stdout.decode()
    return proc.returncode, result_of(output), output


def test_piped_session_prints_replies_and_exits_after_quit(server, exe_env):
    proc = run_client(exe_env, ["127.0.0.1", str(server.port)], b"/ping hi\n/nick piper\n/quit\n")
    out = proc.stdout.decode()
    assert proc.returncode == 0, out + proc.stderr.decode()
    lines = out.splitlines()
    assert lines[0].startswith("* welcome guest")
    assert "PONG hi" in lines and "* bye" in lines
    assert any(l.endswith(" is now piper") for l in lines)


def test_end_of_piped_input_still_prints_every_reply(server, exe_env):
    proc = run_client(exe_env, ["127.0.0.1", str(server.port)], b"/ping one\n/ping two\n")
    assert proc.returncode == 0
    lines = proc.stdout.decode().splitlines()
    assert lines[-2:] == ["PONG one", "PONG two"]


def test_cannot_connect_says_so(exe_env):
    proc = run_client(exe_env, ["127.0.0.1", str(free_port())], b"")
    assert proc.returncode == 1
    assert "cannot connect to 127.0.0.1:" in proc.stderr.decode()


def test_server_closing_first_is_reported(start_server, exe_env):
    server = start_server()
    # Input stays open: the user is still at the keyboard when the server goes away.
    client = Process("client.exe", ["127.0.0.1", str(server.port)], exe_env, stdin=subprocess.PIPE)
    client.wait_for_line(lambda l: l.startswith("* welcome"))
    server.interrupt()
    assert client.wait() == 3
    assert "* server shutting down" in client.output()
    assert "server closed the connection" in client.output()


def test_two_hundred_ping_bots_for_ten_seconds(server, exe_env):
    code, result, output = bots(exe_env, server, "200", "--duration", "10", "--mix", "ping")
    assert code == 0, output[-3000:]
    assert result["connected"] == 200 and result["failed"] == 0 and result["errors"] == 0
    assert result["sent"] >= 200 * 9  # about one /ping a second each
    assert re.search(r"^t=\d+s connected=200 failed=0 sent/s=\d+ recv/s=\d+ p50_ms=", output, re.M)


def test_move_bots_see_their_moves_in_order(server, exe_env):
    code, result, output = bots(exe_env, server, "20", "--duration", "5", "--rate", "4", "--mix", "move")
    assert code == 0, output[-3000:]
    assert result["connected"] == 20 and result["errors"] == 0 and result["sent"] >= 20 * 4 * 4


def test_chat_bots_see_their_lines_in_order(server, exe_env):
    code, result, output = bots(exe_env, server, "20", "--duration", "5", "--rate", "4", "--mix", "chat")
    assert code == 0, output[-3000:]
    assert result["connected"] == 20 and result["errors"] == 0
    assert result["received"] >= result["sent"] * 20  # every line reaches all twenty


def test_hundred_echo_bots(start_server, exe_env):
    server = start_server("--echo")
    code, result, output = bots(exe_env, server, "100", "--duration", "5", "--mix", "echo")
    assert code == 0, output[-3000:]
    assert result["errors"] == 0 and result["received"] == result["sent"] >= 100 * 4
    code, result, output = bots(exe_env, server, "100", "--duration", "3", "--mix", "echo", "--depth", "8")
    assert code == 0, output[-3000:]
    assert result["errors"] == 0 and result["received"] == result["sent"] > 100 * 8


def test_echo_bots_against_the_chat_server_report_errors(server, exe_env):
    code, result, _ = bots(exe_env, server, "5", "--duration", "2", "--mix", "echo")
    assert code != 0 and result["errors"] > 0  # the checks can fail


def test_server_killed_mid_run_is_reported_as_losses(start_server, exe_env):
    server = start_server()
    client = Process("client.exe", ["--bots", "50", "--duration", "20", "--rate", "5",
                                    "127.0.0.1", str(server.port)], exe_env)
    client.wait_for_line(lambda l: l.startswith("t=3s"))
    server.kill()
    code = client.wait(timeout=60)
    result = result_of(client.output())
    assert code != 0
    assert result["errors"] >= 50
    assert "connection lost" in client.output()


def test_bad_options(exe_env):
    proc = run_client(exe_env, ["--bots", "0"])
    assert proc.returncode == 2 and b"--bots 0" in proc.stderr
    proc = run_client(exe_env, ["--bots", "3", "--mix", "dance"])
    assert proc.returncode == 2 and b"expected ping, move, chat or echo" in proc.stderr
    proc = run_client(exe_env, ["--help"])
    assert proc.returncode == 0 and b"--bots N" in proc.stdout
