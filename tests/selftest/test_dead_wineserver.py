"""Run by tests/e2e/test_harness.py in a pytest session of its own (never collected by make test):
the wineserver dies in the first test, as Wine 8's does of heap corruption."""
import os
import signal


def test_the_wineserver_dies_here(wine):
    os.kill(wine.server.pid, signal.SIGKILL)  # its helper processes are orphaned, as in a real crash


def test_the_next_test_runs_normally(server):
    with server.connect() as conn:
        assert conn.read_line().startswith("* welcome")
        assert conn.command("/ping after", "PONG") == "PONG after"
