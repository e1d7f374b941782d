"""Terminal clients for the tests, and the screens they show.

`WindowsTelnet` stands in for Windows' telnet.exe, written from its documented behaviour (it
cannot run here): it starts no negotiation; it answers a server's WILL ECHO and WILL SGA with DO,
and DO NAWS with WILL NAWS and its window size; it never echoes locally; every keystroke is sent
at once, on its own; Backspace sends BS, Enter CR LF, the arrow keys ESC [ A..D. What the server
sends it is drawn on a `Screen` (pyte, a VT100-family terminal emulator), in the console's code
page: UTF-8, or CP949 on Korean Windows. Tests look at the screen, not at the bytes.
"""
import socket
import threading
import time

import pyte

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
ECHO, SGA, NAWS = 1, 3, 31


class Screen:
    """A terminal's screen, fed the bytes a server sends (telnet commands already taken out)."""

    def __init__(self, columns=80, rows=24, encoding="utf-8"):
        self.screen = pyte.Screen(columns, rows)
        self.stream = pyte.Stream(self.screen)
        self.encoding = encoding
        self.pending = b""  # the first bytes of a character split across receives
        self.lock = threading.Lock()

    def feed(self, data):
        with self.lock:
            data = self.pending + data
            for cut in range(len(data), max(len(data) - 4, -1), -1):  # keep an unfinished character
                try:
                    text = data[:cut].decode(self.encoding)
                except UnicodeDecodeError:
                    continue
                self.pending = data[cut:]
                self.stream.feed(text)
                return
            self.pending = b""
            self.stream.feed(data.decode(self.encoding, "replace"))

    def rows(self):
        with self.lock:
            return [line.rstrip() for line in self.screen.display]

    def text(self):
        return "\n".join(self.rows())

    def cursor(self):
        with self.lock:
            return self.screen.cursor.y, self.screen.cursor.x

    def row_with(self, text):
        """The number of the last row that holds `text`, or -1."""
        found = -1
        for number, row in enumerate(self.rows()):
            if text in row:
                found = number
        return found

    def wait_for(self, predicate, timeout=20, what="the screen to change"):
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen:\n{self.text()}")
            time.sleep(0.02)

    def wait_for_text(self, text, timeout=20):
        self.wait_for(lambda s: text in s.text(), timeout, repr(text))


class WindowsTelnet:
    """telnet.exe as Windows ships it, talking to 127.0.0.1:port (see the module comment)."""

    ARROWS = {"up": b"\x1b[A", "down": b"\x1b[B", "right": b"\x1b[C", "left": b"\x1b[D"}

    def __init__(self, port, columns=80, rows=24, encoding="utf-8", key_delay=0.02, answer_delay=0.0):
        self.screen = Screen(columns, rows, encoding)
        self.columns, self.rows, self.encoding, self.key_delay = columns, rows, encoding, key_delay
        self.answer_delay = answer_delay  # a slow network: the server's offers are answered late
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.received = bytearray()  # everything, telnet commands included
        self.commands = []           # (verb, option) the server sent
        self.closed = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    # -- the keyboard --
    def type(self, text):
        """Each character its own keystroke, sent on its own, in the console's code page."""
        for ch in text:
            self.key(ch.encode(self.encoding))

    def key(self, data):
        self.sock.sendall(data)
        time.sleep(self.key_delay)  # a person types: each key is its own receive at the server

    def backspace(self, times=1):
        for _ in range(times):
            self.key(b"\b")

    def enter(self):
        self.key(b"\r\n")

    def arrow(self, direction):
        self.key(self.ARROWS[direction])

    def resize(self, columns, rows):
        self.columns, self.rows = columns, rows
        self.screen.screen.resize(rows, columns)
        self.sock.sendall(self._naws())

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # -- the wire --
    def _naws(self):
        data = bytes([IAC, SB, NAWS])
        for value in (self.columns >> 8, self.columns & 255, self.rows >> 8, self.rows & 255):
            data += bytes([value, IAC]) if value == IAC else bytes([value])
        return data + bytes([IAC, SE])

    def _answer(self, verb, option):
        self.commands.append((verb, option))
        if self.answer_delay:
            time.sleep(self.answer_delay)
        if verb == WILL:
            reply = DO if option in (ECHO, SGA) else DONT
            self.sock.sendall(bytes([IAC, reply, option]))
        elif verb == DO:
            if option == NAWS:
                self.sock.sendall(bytes([IAC, WILL, NAWS]) + self._naws())
            else:
                self.sock.sendall(bytes([IAC, WONT, option]))

    def _read(self):
        state, verb, text = "data", 0, bytearray()
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.received += chunk
                for byte in chunk:
                    if state == "data":
                        if byte == IAC:
                            state = "iac"
                        else:
                            text.append(byte)
                    elif state == "iac":
                        if byte == IAC:
                            text.append(byte)
                            state = "data"
                        elif byte in (WILL, WONT, DO, DONT):
                            verb, state = byte, "option"
                        elif byte == SB:
                            state = "sb"
                        else:
                            state = "data"
                    elif state == "option":
                        self._answer(verb, byte)
                        state = "data"
                    elif state == "sb":
                        state = "sb-iac" if byte == IAC else "sb"
                    elif state == "sb-iac":
                        state = "data" if byte == SE else "sb"
                if text:
                    self.screen.feed(bytes(text))
                    text.clear()
        except OSError:
            pass
        finally:
            self.closed.set()
