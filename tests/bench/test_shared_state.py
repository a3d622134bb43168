"""The Redis scenario's readings of Redis: INFO commandstats, and MONITOR lines sorted by who sent them."""

from __future__ import annotations

from bench.report import FIGURES, build_rows
from bench.shared_state import classify, commandstats_calls

INFO = (
    "# Commandstats\r\n"
    "cmdstat_evalsha:calls=120,usec=900,usec_per_call=7.50,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_pttl:calls=240,usec=100,usec_per_call=0.42,rejected_calls=0,failed_calls=0\r\n"
    "cmdstat_config|resetstat:calls=1,usec=40,usec_per_call=40.00,rejected_calls=0,failed_calls=0\r\n"
)


def test_commandstats_calls_add_up_every_command() -> None:
    assert commandstats_calls(INFO) == 361
    assert commandstats_calls("# Commandstats\r\n") == 0


def test_monitor_lines_are_sorted_by_who_sent_them() -> None:
    limiter = b'+1764751200.123456 [0 127.0.0.1:50412] "EVALSHA" "9a1b" "2" "wag:limitsLIMITER/a/m/1/60" "1"'
    counters = b'+1764751200.223456 [0 127.0.0.1:50413] "EVALSHA" "77aa" "1" "wag:usage:acct:2026-12-03" "neurons"'
    refresh = b'+1764751200.323456 [0 127.0.0.1:50413] "GET" "wag:account:acct"'
    scripted = b'+1764751200.123460 [0 lua] "pttl" "wag:limitsLIMITER/a/m/1/60"'
    assert [classify(line) for line in (limiter, counters, refresh, scripted)] == [
        "path",
        "background",
        "background",
        "script",
    ]
    assert classify(b"+OK") is None


def test_the_redis_target_is_not_a_failure_when_the_scenario_was_skipped() -> None:
    (row,) = [row for row in build_rows({}) if row.figure.key == "redis.commands_per_request"]
    assert row.passed is None and row.summary is None
    assert any(figure.key == "redis.commands_per_request" and figure.limit == 1 for figure in FIGURES)
