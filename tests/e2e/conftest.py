"""Fixtures for end-to-end tests: the real server.exe (under Wine on Linux, directly on Windows),
started on a free loopback port, talked to over TCP, stopped by its PID."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
ON_WINDOWS = os.name == "nt"
START_TIMEOUT = 60  # the first start in a new Wine prefix sets the prefix up
STOP_TIMEOUT = 30


def wine_env(prefix):
    env = dict(os.environ, WINEDEBUG="-all", WINEPREFIX=prefix)
    return env


def ensure_prefix(prefix):
    """Creates the Wine prefix on first use; later runs reuse it."""
    if not os.path.exists(os.path.join(prefix, "system.reg")):
        os.makedirs(prefix, exist_ok=True)
        # mscoree/mshtml off: otherwise wineboot may offer to download Mono and Gecko in a dialog.
        subprocess.run(["wineboot", "-i"], env=dict(wine_env(prefix), WINEDLLOVERRIDES="mscoree,mshtml="),
                       stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300, check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def exe_command(name, args):
    path = os.path.join(BUILD, name)
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: run `make` first")
    return [path] + args if ON_WINDOWS else ["wine", path] + args


class Process:
    """A running .exe whose output lines are collected by a reader thread."""

    def __init__(self, name, args, env, stdin=subprocess.DEVNULL):
        flags = subprocess.CREATE_NEW_PROCESS_GROUP if ON_WINDOWS else 0
        self.proc = subprocess.Popen(exe_command(name, args), env=env, stdin=stdin,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     creationflags=flags)
        self.lines = []
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for_line(self, predicate, timeout=30):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError("no such line; output was:\n" + "\n".join(self.lines[-50:]))
                self.cond.wait(min(left, 0.5))

    def output(self):
        with self.cond:
            return "\n".join(self.lines)

    def interrupt(self):
        """Ctrl+C: Wine turns SIGINT into CTRL_C_EVENT; on Windows, Ctrl+Break to the group."""
        if ON_WINDOWS:
            os.kill(self.proc.pid, signal.CTRL_BREAK_EVENT)
        else:
            self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout=STOP_TIMEOUT):
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=5)
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT)


class Server(Process):
    def __init__(self, args, env):
        self.port = free_port()
        super().__init__("server.exe", ["--port", str(self.port), "--bind", "127.0.0.1"] + args, env)
        self.wait_for_line(lambda l: l.startswith("listening on"), timeout=START_TIMEOUT)

    def connect(self, **kw):
        return Conn(self.port, **kw)

    def stats(self):
        """The server's counters, asked for over a fresh connection, as a dict of ints."""
        with self.connect() as probe:
            probe.read_line()  # welcome
            return probe.stats()


class Conn:
    """One TCP client of the server, reading whole lines."""

    def __init__(self, port, timeout=20):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data.encode() if isinstance(data, str) else data)

    def send_line(self, text):
        self.send(text + "\r\n")

    def read_line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; unread: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def read_until(self, predicate):
        """Lines up to and including the first that matches."""
        seen = []
        while True:
            line = self.read_line()
            seen.append(line)
            if predicate(line):
                return seen

    def read_to_eof(self):
        data = self.buf
        self.buf = b""
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return data
            data += chunk

    def command(self, text, reply_prefix):
        self.send_line(text)
        return self.read_until(lambda l: l.startswith(reply_prefix))[-1]

    def stats(self):
        line = self.command("/stats", "STATS ")
        return {k: int(v) for k, v in (kv.split("=") for kv in line.split()[1:])}

    def reset(self):
        """Closes with RST instead of FIN."""
        import struct
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


@pytest.fixture(scope="session")
def exe_env():
    if ON_WINDOWS:
        yield dict(os.environ)
        return
    prefix = os.path.join(BUILD, "wine", "test")
    ensure_prefix(prefix)
    env = wine_env(prefix)
    yield env
    subprocess.run(["wineserver", "-k"], env=env, timeout=60)


@pytest.fixture
def start_server(exe_env):
    """start_server(*args) -> Server; every server still running at the end is killed."""
    started = []

    def start(*args):
        server = Server(list(args), exe_env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def server(start_server):
    return start_server()
