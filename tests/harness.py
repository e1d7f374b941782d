"""The one harness that starts, talks to and stops the exes, for the end-to-end tests, the soak,
the benchmarks and `make run`.

On Linux every .exe runs under Wine, in a prefix under build/wine/NAME whose wineserver belongs to
the run: `Wine.start` launches it (persistent for the run, stderr to build/wine/NAME-wineserver.log)
and waits until it answers; `Wine.stop` stops it, then every process still carrying that
WINEPREFIX, by PID. Wine 8's wineserver can die of heap corruption (README, Wine notes): a run asks
`Wine.death()` after each step, reports a death with the wineserver's log and `restart()`s it
(orphans ended, a fresh wineserver), so the next step runs normally; nothing is silently retried. On Windows the exes run directly and `Wine` does nothing.

    python3 -m tests.harness run [SERVER OPTIONS]    what `make run` does: server.exe in the
                                                     foreground, Ctrl+C stops it
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
ON_WINDOWS = os.name == "nt"
START_TIMEOUT = 60  # a server's "listening" line; the first start in a new prefix sets it up
STOP_TIMEOUT = 30
WINESERVER_TIMEOUT = 30  # for a wineserver to answer, or to be gone


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WineserverDied(Exception):
    """The run's wineserver is gone: nothing more can be started in its prefix until restart()."""


# ---- Wine ---------------------------------------------------------------------------------------

def processes_with_env(name, value):
    """PIDs of this user's processes whose environment has name=value (ours excluded)."""
    wanted = f"{name}={value}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if wanted in f.read().split(b"\0"):
                    pids.append(int(entry))
        except OSError:
            pass  # gone, or not ours
    return pids


def listening_unix_sockets(pid):
    """Paths of the listening Unix sockets process `pid` holds open."""
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        with open("/proc/net/unix") as f:
            rows = [line.split() for line in f.readlines()[1:]]
    except OSError:
        return []
    # Num RefCount Protocol Flags Type St Inode Path; flag 0x10000 = accepting connections
    return [row[7] for row in rows if len(row) >= 8 and row[6] in inodes and int(row[3], 16) & 0x10000]


def listening_on(port):
    """Whether a socket of this machine listens on TCP `port` (Linux: /proc/net/tcp and tcp6)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = [line.split() for line in f.readlines()[1:]]
        except OSError:
            continue
        # sl local_address rem_address st ...; st 0A = LISTEN
        if any(int(row[1].rsplit(":", 1)[1], 16) == port and row[3] == "0A" for row in rows):
            return True
    return False


class Wine:
    """A Wine prefix, build/wine/NAME, and the wineserver the run owns for it."""

    def __init__(self, name, cpu=None, server_debug=False):
        self.name = name
        self.cpu = cpu  # pin the wineserver (and the exes started here) to this core
        self.server_debug = server_debug  # wineserver -d1: every request traced to its log
        self.prefix = os.path.join(BUILD, "wine", name)
        self.log_path = os.path.join(BUILD, "wine", name + "-wineserver.log")
        self.env = dict(os.environ) if ON_WINDOWS else dict(os.environ, WINEDEBUG="-all", WINEPREFIX=self.prefix)
        self.server = None  # the wineserver's Popen, while the run uses the prefix
        self.unreported_death = None  # seen by stop(), not yet taken by death()
        self.in_use = False  # between start() and stop()

    def pinned(self, command):
        return ["taskset", "-c", str(self.cpu)] + command if self.cpu is not None else command

    def start(self, warm_up=True):
        """Makes the prefix if needed, ends whatever still runs in it, starts our wineserver and,
        with `warm_up`, Wine's helper processes."""
        self.in_use = True
        if ON_WINDOWS:
            return self
        self._end_leftovers()
        if not os.path.exists(os.path.join(self.prefix, "system.reg")):
            os.makedirs(self.prefix, exist_ok=True)
            # mscoree/mshtml off: otherwise wineboot offers to download Mono and Gecko in a dialog.
            subprocess.run(["wineboot", "-i"], env=dict(self.env, WINEDLLOVERRIDES="mscoree,mshtml="),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300, check=True)
            subprocess.run(["wineserver", "-w"], env=self.env, timeout=300)  # registry written out
            self._end_leftovers()
        log = open(self.log_path, "ab")
        log.write(f"---- wineserver started {time.strftime('%H:%M:%S')}\n".encode())
        log.flush()
        # A session of its own: a Ctrl+C meant for an exe in the foreground must not reach it.
        debug = ["-d1"] if self.server_debug else []
        self.server = subprocess.Popen(self.pinned(["wineserver", "-f", "-p"] + debug), env=self.env,
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + WINESERVER_TIMEOUT
        while not any(os.path.basename(p) == "socket" for p in listening_unix_sockets(self.server.pid)):
            if self.server.poll() is not None:
                raise WineserverDied(f"the wineserver of {self.prefix} exited at start:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise WineserverDied(f"the wineserver of {self.prefix} does not answer:\n{self.log_tail()}")
            time.sleep(0.05)
        # The first program of a wineserver starts Wine's helper processes (services.exe,
        # winedevice.exe, ...), which keep the standard handles they inherit: started here, with
        # none, they cannot hold a test's output pipe open. It is also the proof that Wine answers.
        if warm_up:
            subprocess.run(self.pinned(["wine", "cmd", "/c", "exit"]), env=self.env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120, check=True)
        return self

    def death(self):
        """What the wineserver died of, once, or None while it lives. A death seen by stop() is
        kept for this call. A round trip through a living one comes first, so that a death in
        progress (the wineserver aborts while it cleans up after an exe that just exited) is seen
        now, not by the next step of the run."""
        if self.server is not None and self.server.poll() is None:
            subprocess.run(["wine", os.path.join(BUILD, "server.exe"), "--help"], env=self.env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=120)
            try:
                self.server.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                pass
        self._note_death()
        death, self.unreported_death = self.unreported_death, None
        if death:
            self.server = None  # reported: the dead one is forgotten, its orphans ended by stop()
        return death

    def _note_death(self):
        if self.server is not None and self.server.poll() is not None and self.unreported_death is None:
            self.unreported_death = (f"Wine's wineserver died (exit {self.server.returncode}); the last lines "
                                     f"of {os.path.relpath(self.log_path, ROOT)}:\n{self.log_tail()}")

    def restart(self):
        """After a death: the orphaned helpers are ended and, while the run still uses this prefix,
        a fresh wineserver is started."""
        in_use = self.in_use
        self.stop()
        return self.start() if in_use else self

    def stop(self):
        """Stops the wineserver, then every process still in the prefix; returns how many of those
        had to be killed (helpers orphaned by a dead wineserver, or exes still running)."""
        self.in_use = False
        if ON_WINDOWS:
            return 0
        self._note_death()
        if self.server is not None and self.server.poll() is None:
            subprocess.run(["wineserver", "-k"], env=self.env, stderr=subprocess.DEVNULL, timeout=60)
            try:
                self.server.wait(timeout=WINESERVER_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self.server = None
        return self._end_leftovers()

    def leftovers(self):
        return [] if ON_WINDOWS else processes_with_env("WINEPREFIX", self.prefix)

    def _end_leftovers(self):
        """Kills every process of the prefix and waits until they are gone: nothing may start while
        a wineserver of this prefix is still going down."""
        pids = self.leftovers()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + WINESERVER_TIMEOUT
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.05)
        return len(pids)

    def log_tail(self, lines=15):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return "\n".join("    " + l for l in text.splitlines()[-lines:])

    def command(self, exe, args):
        """The command line that runs build/EXE with `args` here."""
        path = exe if os.path.isabs(exe) else os.path.join(BUILD, exe)
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} is missing: run `make` first")
        if ON_WINDOWS:
            return [path] + list(args)
        if self.server is None or self.server.poll() is not None:
            # `wine` would quietly start a wineserver of its own, with no log and nobody to stop it.
            raise WineserverDied(f"cannot start {exe}: the wineserver of {self.prefix} is not running")
        return self.pinned(["wine", path] + list(args))

    def run(self, exe, args, **kw):
        """Runs an exe to its end: subprocess.run with this prefix's environment."""
        return subprocess.run(self.command(exe, args), env=self.env, **kw)

    def spawn(self, exe, args, stdin=subprocess.DEVNULL):
        return Process(self, exe, args, stdin=stdin)

    def start_server(self, args, port=None, console=False):
        return Server(self, args, port=port, console=console)


# ---- Processes ----------------------------------------------------------------------------------

class Process:
    """A running .exe whose output lines (stdout and stderr) are collected by a reader thread."""

    def __init__(self, wine, exe, args, stdin=subprocess.DEVNULL):
        flags = subprocess.CREATE_NEW_PROCESS_GROUP if ON_WINDOWS else 0
        self.proc = subprocess.Popen(wine.command(exe, args), env=wine.env, stdin=stdin,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, creationflags=flags)
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

    def stop(self, timeout=15):
        """Ctrl+C, and a kill only if it has not ended by then."""
        if self.proc.poll() is not None:
            return
        self.interrupt()
        try:
            self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()


class Server(Process):
    """server.exe on a free loopback port, started once its "listening" line is out."""

    def __init__(self, wine, args, port=None, attempts=5, console=False):
        """console: its standard input is a pipe the test types the operator's commands into (type())."""
        for attempt in range(attempts):
            self.port = port or free_port()
            super().__init__(wine, "server.exe", ["--port", str(self.port), "--bind", "127.0.0.1"] + list(args),
                             stdin=subprocess.PIPE if console else subprocess.DEVNULL)
            try:
                self.wait_for_line(lambda l: l.startswith("listening on"), timeout=START_TIMEOUT)
                return
            except AssertionError:
                self.kill()
                # Another run on this machine took the port between free_port() and our bind.
                if port or "bind failed: 10048" not in self.output() or attempt == attempts - 1:
                    raise

    def wait_for_listener_closed(self, timeout=STOP_TIMEOUT):
        """Once the process has ended (a kill, a crash): returns when nothing listens on its port
        any more. On Windows a process's handles are closed before it counts as ended; under Wine
        the wineserver closes them when it sees the process gone, a few ms after Linux has reaped
        it. A listener still there after `timeout` is a failure, never waited out."""
        assert self.proc.poll() is not None, "server.exe is still running"
        if ON_WINDOWS:
            return
        deadline = time.monotonic() + timeout
        while listening_on(self.port):
            if time.monotonic() > deadline:
                raise AssertionError(f"port {self.port} is still listened on {timeout} s after server.exe ended")
            time.sleep(0.01)

    def connect(self, **kw):
        return Conn(self.port, **kw)

    def type(self, line):
        """One line of the operator's console (a server started with console=True)."""
        self.proc.stdin.write(line.encode("utf-8") + b"\n")
        self.proc.stdin.flush()

    def console(self, line, predicate, timeout=30):
        """Types `line` and waits for the first output line after it that `predicate` accepts."""
        with self.cond:
            seen = len(self.lines)
        self.type(line)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for out in self.lines[seen:]:
                    if predicate(out):
                        return out
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError(f"no answer to {line!r}; output was:\n" + "\n".join(self.lines[-50:]))
                self.cond.wait(min(left, 0.5))

    def stats(self):
        """The server's counters, asked for over a fresh connection, as a dict of ints."""
        with self.connect() as probe:
            probe.read_line()  # welcome
            return probe.stats()

    def wait_for_stats(self, predicate, timeout=20):
        """Polls /stats until predicate(stats) holds or `timeout` seconds pass; the last stats."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats()
            if predicate(stats) or time.monotonic() > deadline:
                return stats
            time.sleep(0.2)


# ---- Connections --------------------------------------------------------------------------------

class Conn:
    """One TCP client of the server, reading whole lines."""

    def __init__(self, port, timeout=20, host="127.0.0.1", source=None):
        """source: the local address to connect from (127.0.0.2 ... on loopback), else any."""
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
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
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


class Reader(threading.Thread):
    """Reads a connection's lines in the background until it closes or a line matches `stop`."""

    def __init__(self, conn, stop=lambda line: False):
        super().__init__(daemon=True)
        self.conn, self.stop, self.lines, self.error = conn, stop, [], None
        self.start()

    def run(self):
        try:
            while True:
                line = self.conn.read_line()
                self.lines.append(line)
                if self.stop(line):
                    return
        except (EOFError, OSError) as e:
            self.error = e


# ---- make run -----------------------------------------------------------------------------------

def run_in_foreground(args):
    """server.exe with the terminal's stdin and stdout; its Ctrl+C is the server's, and the
    wineserver (in a session of its own) is stopped after the server has exited."""
    wine = Wine("run").start()
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server's Ctrl+C is the server's to handle
        proc = subprocess.Popen(wine.command("server.exe", args), env=wine.env,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        code = proc.wait()
    finally:
        wine.stop()
    death = wine.death()
    if death:
        print(death, file=sys.stderr)
    return code


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "run":
        sys.exit(run_in_foreground(sys.argv[2:]))
    sys.exit(__doc__)
