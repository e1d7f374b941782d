"""The one-minute version of `make soak`: mixed bots with reconnect churn, then no leak."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "soak"))
import soak  # noqa: E402


def test_one_minute_soak_loses_nothing_and_leaks_nothing(exe_env):
    ok, report = soak.run_soak(60, exe_env)
    print("\n".join(report))
    assert ok, "\n".join(report)
