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


@pytest.fixture
def start_server(wine):
    """start_server(*args, port=None) -> Server; every server still running at the end is stopped."""
    started = []

    def start(*args, port=None):
        server = wine.start_server(args, port=port)
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

