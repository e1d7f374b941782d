"""The one-minute version of `make soak`: mixed bots with reconnect churn, then no leak."""
from tests.soak import soak


def test_one_minute_soak_loses_nothing_and_leaks_nothing(wine):
    ok, report = soak.run_soak(60, wine)
    print("\n".join(report))
    assert ok, "\n".join(report)
