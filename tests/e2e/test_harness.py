"""The harness itself: a wineserver that dies during a test fails that test, with the reason, and
only that one; the next test gets a fresh wineserver, and nothing of the dead one survives."""
import os
import subprocess
import sys

import pytest

from tests.harness import ON_WINDOWS, ROOT, Wine


@pytest.mark.skipif(ON_WINDOWS, reason="no wineserver on Windows")
def test_a_dead_wineserver_fails_its_test_and_only_that_one():
    env = dict(os.environ, TEST_WINE="scratch")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/selftest"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert "1 failed, 1 passed" in output, output
    assert "FAILED tests/selftest/test_dead_wineserver.py::test_the_wineserver_dies_here" in output, output
    assert "Wine's wineserver died (exit -9)" in output, output
    assert Wine("scratch").leftovers() == []
