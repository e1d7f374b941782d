"""Fixtures over tests/harness.py: one Wine prefix and one wineserver for the whole pytest session,
a check after every test that the wineserver is still alive, servers on free loopback ports."""
import os

import pytest
from _pytest.runner import runtestprotocol

from tests.harness import Wine

_session_wine = Wine(os.environ.get("TEST_WINE", "test"))


@pytest.fixture(scope="session")
def wine():
    """The session's Wine prefix (build/wine/test, or $TEST_WINE) with a wineserver of its own."""
    yield _session_wine.start()
    leftovers = _session_wine.stop()
    # Helpers orphaned by a wineserver that died in the last test are that test's failure.
    if _session_wine.unreported_death is None:
        assert leftovers == 0, f"{leftovers} processes of the test prefix were still running at the end"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item, nextitem):
    """Runs a test's setup, call and teardown, then asks whether the wineserver survived them.
    A dead one fails this test, whatever it asserted, with the wineserver's last words; it is then
    restarted with its orphans ended, so one crash is one failure, not a cascade."""
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = runtestprotocol(item, nextitem=nextitem, log=False)
    death = _session_wine.death()
    if death:
        _session_wine.restart()
        failed = next((r for r in reports if r.when == "call"), reports[0])
        failed.outcome = "failed"
        failed.longrepr = death + ("\n\n" + str(failed.longrepr) if failed.longrepr else "")
    for report in reports:
        item.ihook.pytest_runtest_logreport(report=report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


# The modules whose tests run twice: as they are, and against servers whose receives take one byte
# and whose sends hand the OS at most seven (--recv-chunk 1 --send-chunk 7), so the framing, the
# escape sequences, the UTF-8 and CP949 reassembly and the short sends are proven by real
# completions, not only by the fuzzer.
SHORT_IO_MODULES = {"test_protocol", "test_terminal", "test_play"}
SHORT_IO_ARGS = ("--recv-chunk", "1", "--send-chunk", "7")


def pytest_generate_tests(metafunc):
    if metafunc.module.__name__.rsplit(".", 1)[-1] in SHORT_IO_MODULES and "start_server" in metafunc.fixturenames:
        metafunc.parametrize("server_io", ["whole", "short"], indirect=True)


@pytest.fixture
def server_io(request):
    """How the servers of a test do their I/O: "whole", or "short" (SHORT_IO_ARGS)."""
    return getattr(request, "param", "whole")


@pytest.fixture
def start_server(wine, server_io):
    """start_server(*args, port=None, console=False) -> Server; every server still running at the end
    is stopped. console=True: its standard input is a pipe for the operator's commands."""
    started = []

    def start(*args, port=None, console=False):
        args = args + (SHORT_IO_ARGS if server_io == "short" else ())
        server = wine.start_server(args, port=port, console=console)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def spawn(wine):
    """spawn(exe, args, stdin=...) -> Process; every one still running at the end is stopped."""
    started = []

    def start(exe, args, **kw):
        process = wine.spawn(exe, args, **kw)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()

