"""Issue 17, part 4: what the middleware (chalicelib/core/observability.py) writes per invocation.
Metrics are added up while an invocation runs and written when it ends, one EMF record per
dimension set (not one per `count()`); logging keys and metrics belong to the invocation's
thread, so queue workers running side by side (`tools.cli work-queues`) keep their own."""

from __future__ import annotations

import io
import json
import threading
from types import SimpleNamespace

import pytest

from chalicelib.core import observability
from chalicelib.core.observability import count, logger, observe


def lambda_event(request_id: str, function: str = "offboard-prod-SunsetStep-X"):
    """What Chalice hands the middleware for an event: the event with Lambda's context."""
    return SimpleNamespace(context=SimpleNamespace(aws_request_id=request_id, function_name=function))


def emf_records(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith('{"_aws"')]


def by_dimensions(records: list[dict]) -> dict[tuple, dict[str, list]]:
    out = {}
    for record in records:
        [directive] = record["_aws"]["CloudWatchMetrics"]
        [dimensions] = directive["Dimensions"]
        key = tuple(sorted((name, record[name]) for name in dimensions))
        assert key not in out, f"two records for {key}"
        out[key] = {m["Name"]: record[m["Name"]] for m in directive["Metrics"]}
    return out


@pytest.fixture
def log(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(logger.registered_handler, "stream", stream)
    return stream


def test_an_invocations_counts_are_written_once_when_it_ends_one_record_per_dimension_set(capsys):
    def handler(_):
        for _ in range(3):
            count("SunsetTransitions", outcome="emailed")
        count("SunsetTransitions", outcome="kept")
        count("EngagementRecords", outcome="emailed")
        count("Erasures")
        count("Erasures")
        assert emf_records(capsys.readouterr().out) == []  # nothing written while it runs

    observe(lambda_event("r1"), handler)
    written = by_dimensions(emf_records(capsys.readouterr().out))
    assert written == {
        (("outcome", "emailed"), ("service", "offboard-api")): {"SunsetTransitions": [3.0], "EngagementRecords": [1.0]},
        (("outcome", "kept"), ("service", "offboard-api")): {"SunsetTransitions": [1.0]},
        (("service", "offboard-api"),): {"Erasures": [2.0]},
    }


def test_a_failing_invocation_still_writes_its_counts_and_the_next_starts_from_zero(capsys):
    def failing(_):
        count("UnexpectedErrors")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        observe(lambda_event("r1"), failing)
    assert by_dimensions(emf_records(capsys.readouterr().out)) == {
        (("service", "offboard-api"),): {"UnexpectedErrors": [1.0]}
    }
    observe(lambda_event("r2"), lambda _: count("Erasures"))
    assert by_dimensions(emf_records(capsys.readouterr().out)) == {(("service", "offboard-api"),): {"Erasures": [1.0]}}


def test_outside_an_invocation_a_count_is_written_at_once(capsys):
    count("Erasures", source="cli")
    assert by_dimensions(emf_records(capsys.readouterr().out)) == {
        (("service", "offboard-api"), ("source", "cli")): {"Erasures": [1.0]}
    }


def test_keys_of_one_invocation_do_not_follow_into_the_next(log):
    observe(lambda_event("r1"), lambda _: (logger.thread_safe_append_keys(list_id="news"), logger.info("first")))
    observe(lambda_event("r2"), lambda _: logger.info("second"))
    first, second = (json.loads(line) for line in log.getvalue().splitlines())
    assert (first["correlation_id"], first["list_id"]) == ("r1", "news")
    assert second["correlation_id"] == "r2" and "list_id" not in second


def test_workers_in_threads_keep_their_own_correlation_id_and_metrics(log, capsys):
    """Two invocations run at once in two threads, interleaved at each step by a barrier."""
    barrier = threading.Barrier(2, timeout=10)
    errors = []

    def worker(n: int):
        def handler(_):
            barrier.wait()  # both have started (and set their ids)
            logger.info("working", extra={"worker": n})
            count("SunsetTransitions", outcome=f"w{n}")
            barrier.wait()  # both have counted
            if n == 1:
                observability.flush()  # worker 1 ends first: its flush must not write worker 2's counts
            barrier.wait()
            logger.info("done", extra={"worker": n})

        try:
            observe(lambda_event(f"request-{n}", f"function-{n}"), handler)
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert not errors
    lines = [json.loads(line) for line in log.getvalue().splitlines()]
    assert len(lines) == 4
    for line in lines:
        assert line["correlation_id"] == f"request-{line['worker']}", line
        assert line["function_name"] == f"function-{line['worker']}", line
    written = by_dimensions(emf_records(capsys.readouterr().out))
    assert written == {
        (("outcome", f"w{n}"), ("service", "offboard-api")): {"SunsetTransitions": [1.0]} for n in (1, 2)
    }
