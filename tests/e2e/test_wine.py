"""Wine 8's wineserver defect, reproduced with the smallest program that shows it
(tests/wine/close_pending.cpp), and the close sequence the server uses instead (README, "Wine
notes"). Each run has a fresh wineserver of its own, with the program as its first process: the
session's wineserver is not touched."""
import subprocess
import tempfile

import pytest

from tests.harness import ON_WINDOWS, Wine

pytestmark = pytest.mark.skipif(ON_WINDOWS, reason="a Wine defect: on Windows both closes are fine")


def close_pending(variant):
    """(completions that came back, what the wineserver died of or None)."""
    wine = Wine("scratch").start(warm_up=False)
    try:
        # Output to a file: the helpers this first process starts would hold a pipe open.
        with tempfile.TemporaryFile() as out:
            code = subprocess.run(wine.command("close_pending.exe", [variant]), env=wine.env,
                                  stdout=out, stderr=subprocess.STDOUT, timeout=120).returncode
            out.seek(0)
            text = out.read().decode(errors="replace")
        assert code == 0 and text.startswith("completions "), text
        # It dies while it cleans up after the exited process: give it the time that takes.
        try:
            wine.server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        return int(text.split()[1]), wine.death()
    finally:
        wine.stop()
        assert wine.leftovers() == []


def test_closing_with_a_receive_and_a_stuck_send_pending_kills_wine_8():
    completions, death = close_pending("close")
    # If this fails, Wine no longer has the defect, and the CancelIoEx before closesocket in
    # iocp.h's close_socket is no longer needed under Wine.
    assert completions == 0, "Wine now completes the operations a closesocket cancels"
    assert death is not None, "the wineserver survived: Wine no longer dies of this"
    print(death)


def test_cancelling_first_gets_both_completions_and_wine_lives():
    completions, death = close_pending("cancel-close")
    assert completions == 2
    assert death is None, death
