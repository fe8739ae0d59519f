"""Metrics: batched in the background, and on the server exactly once."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest

import chronicle as sdk
from sdk_helpers import chronicle_client, history


@pytest.mark.parametrize("sender", ["process", "thread"])
def test_every_point_arrives_exactly_once_in_order(chronicle, sender):
    # Small batches and a short interval: many chunks, sent while the loop still logs.
    client = chronicle_client(chronicle, max_batch_points=97, flush_interval=0.05, sender=sender)
    with client.start_run(f"exactly-once-{sender}") as run:
        for step in range(3000):
            run.log({"loss": 1.0 / (step + 1), "acc": step / 3000}, step=step)
    stats = run.stats
    assert stats.logged_points == 6000 and stats.sent_points == 6000 and stats.pending_points == 0
    assert stats.batches_sent >= 6000 // 97
    loss = history(chronicle, run.id, "loss")
    assert [p["step"] for p in loss] == list(range(3000))
    assert [p["value"] for p in loss] == [1.0 / (s + 1) for s in range(3000)]
    assert len(history(chronicle, run.id, "acc")) == 3000


def test_flush_makes_points_visible_before_the_run_ends(chronicle, client):
    run = client.start_run("flush")
    run.log({"x": 1.5}, step=7)
    run.log_metric("y", 2, step=7)
    run.flush()
    assert history(chronicle, run.id, "x") == [{"step": 7, "value": 1.5}]
    assert history(chronicle, run.id, "y") == [{"step": 7, "value": 2}]
    run.finish()


def test_special_and_numeric_like_values(chronicle, client):
    with client.start_run("values") as run:
        run.log({"nan": math.nan, "inf": math.inf, "ninf": -math.inf}, step=0)
        run.log({"dec": Decimal("0.25"), "frac": Fraction(1, 4), "flag": True, "big": 10**15}, step=1)
        run.log({"no_step": 3.0})
    values = {k: history(chronicle, run.id, k) for k in ("nan", "inf", "ninf", "dec", "frac", "flag", "big", "no_step")}
    assert values["nan"][0]["value"] == "NaN"
    assert values["inf"][0]["value"] == "Infinity" and values["ninf"][0]["value"] == "-Infinity"
    assert values["dec"][0]["value"] == 0.25 and values["frac"][0]["value"] == 0.25
    assert values["flag"][0]["value"] == 1 and values["big"][0]["value"] == 10**15
    assert values["no_step"] == [{"step": 0, "value": 3}]


def test_explicit_timestamps_are_kept(chronicle, client):
    with client.start_run("timestamps") as run:
        run.log({"t": 1.0}, step=0, timestamp=1_700_000_000_123)
    pts = client.metric_history(run.id, "t")
    assert pts[0].timestamp == 1_700_000_000_123


@pytest.mark.parametrize(
    "metrics, step",
    [
        ({"bad key!": 1.0}, 0),
        ({"a/../b": 1.0}, 0),
        ({"/root": 1.0}, 0),
        ({"": 1.0}, 0),
        ({"x" * 251: 1.0}, 0),
        ({"ok": "1.0"}, 0),
        ({"ok": None}, 0),
        ({"ok": 1.0}, 1.5),
        ({"ok": 1.0}, "3"),
    ],
)
def test_bad_points_are_refused_before_sending_and_leave_nothing(chronicle, client, metrics, step):
    with client.start_run("refused") as run:
        run.log({"good": 1.0, "fine": 2.0}, step=0)
        with pytest.raises(sdk.ChronicleInputError):
            run.log({"fine": 3.0, **metrics}, step=step)
    # The valid point of the refused call was not kept either.
    assert history(chronicle, run.id, "fine") == [{"step": 0, "value": 2}]
    assert len(history(chronicle, run.id, "good")) == 1


def test_points_the_server_refuses_are_reported_by_the_next_call(chronicle, client):
    errors = []
    run = client.start_run("deleted-meanwhile", on_flush_error=errors.append)
    run.log({"x": 1.0}, step=0)
    run.flush()
    chronicle.graphql("mutation($r: ID!) { deleteRun(runId: $r) { id } }", {"r": run.id})
    run.log({"x": 2.0}, step=1)
    with pytest.raises(sdk.ChronicleApiError) as err:
        run.flush()
    # The server's own code and status for logging to a deleted run, with its message.
    assert (err.value.code, err.value.status) == ("FAILED_PRECONDITION", 422)
    assert "deleted" in err.value.message
    assert errors and isinstance(errors[0], sdk.ChronicleApiError)
    assert run.stats.refused_points == 1
    chronicle.graphql("mutation($r: ID!) { restoreRun(runId: $r) { id } }", {"r": run.id})
    run.finish()
    assert len(history(chronicle, run.id, "x")) == 1


def test_bad_timestamps_and_non_mappings_are_input_errors(client):
    with client.start_run("bad-shapes") as run:
        for ts in (-1, 1.5, "now", True):
            with pytest.raises(sdk.ChronicleInputError):
                run.log({"x": 1.0}, timestamp=ts)
        with pytest.raises(sdk.ChronicleInputError):
            run.log([1.0, 2.0])  # type: ignore[arg-type]
        with pytest.raises(sdk.ChronicleInputError):
            run.finish("DONE")
    assert run.stats.logged_points == 0
