"""Retries never duplicate data: a lost answer, a server restarted mid-run."""

from __future__ import annotations

import time

import pytest

import chronicle as sdk
from sdk_helpers import LossyProxy, history, start_again, stop_server, unique

FAST_RETRY = sdk.RetryPolicy(attempts=4, base_delay=0.05, max_delay=0.2)


@pytest.mark.parametrize("sender", ["process", "thread"])
def test_a_metric_batch_whose_answer_was_lost_is_written_once(chronicle, sender):
    is_ingest = lambda method, path: method == "POST" and path.endswith("/metrics")  # noqa: E731
    with LossyProxy(chronicle.url, is_ingest, drop=2) as proxy:
        client = sdk.Client(proxy.url, chronicle.admin_token, retry=FAST_RETRY, sender=sender, max_batch_points=30)
        with client.start_run(f"lossy-{sender}") as run:
            for step in range(100):
                run.log({"loss": float(step)}, step=step)
    # The server received the dropped batches and their retries ...
    assert len(proxy.dropped) == 2
    ingests = [key for method, path, key in proxy.seen if is_ingest(method, path)]
    dropped = [key for _, _, key in proxy.dropped]
    assert len(ingests) == len(set(ingests)) + 2  # every batch once, plus one resend per lost answer
    for key in set(dropped):
        assert key and ingests.count(key) == dropped.count(key) + 1  # resent with the same key
    # ... and stored every point once.
    assert [p["step"] for p in history(chronicle, run.id, "loss")] == list(range(100))


@pytest.mark.parametrize("sender", ["process", "thread"])
def test_a_batch_resent_after_the_transport_gave_up_keeps_its_key(chronicle, sender):
    # Three lost answers for the same batch, two tries per request: the first flush gives up
    # (the batch stays queued), the second resends it, and the server must not store it twice.
    is_ingest = lambda method, path: method == "POST" and path.endswith("/metrics")  # noqa: E731
    with LossyProxy(chronicle.url, is_ingest, drop=3) as proxy:
        client = sdk.Client(proxy.url, chronicle.admin_token, retry=sdk.RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02), sender=sender, on_flush_error=lambda e: None)
        run = client.start_run(f"resent-{sender}", capture_git=False)
        run.log({"loss": 1.0}, step=0)
        with pytest.raises(sdk.ChronicleNetworkError):
            run.flush()
        run.finish()
    keys = [key for method, path, key in proxy.seen if is_ingest(method, path)]
    assert len(keys) == 4 and len(set(keys)) == 1
    assert history(chronicle, run.id, "loss") == [{"step": 0, "value": 1}]


def test_a_start_run_whose_answer_was_lost_starts_one_run(chronicle):
    exp = unique("lost-start")
    client = sdk.Client(chronicle.url, chronicle.admin_token)
    exp_id = client.experiment_id(exp)
    is_start = lambda method, path: method == "POST" and path == "/graphql"  # noqa: E731
    with LossyProxy(chronicle.url, is_start, drop=1) as proxy:
        lossy = sdk.Client(proxy.url, chronicle.admin_token, retry=FAST_RETRY)
        with lossy.start_run("only-once", experiment_id=exp_id, capture_git=False) as run:
            pass
    assert len(proxy.dropped) == 1
    runs = chronicle.graphql("query($e: [ID!]) { runs(experimentIds: $e) { totalCount nodes { id status } } }", {"e": [exp_id]})
    assert runs["runs"]["totalCount"] == 1 and runs["runs"]["nodes"][0] == {"id": run.id, "status": "FINISHED"}


def test_a_server_restarted_mid_run_gets_every_point_once(chronicle_fresh):
    server = chronicle_fresh
    errors = []
    client = sdk.Client(server.url, server.admin_token, retry=FAST_RETRY, flush_interval=0.05, on_flush_error=errors.append)
    run = client.start_run("restart")
    for step in range(500):
        run.log({"loss": float(step)}, step=step)
    run.flush()
    stop_server(server)
    for step in range(500, 1000):
        run.log({"loss": float(step)}, step=step)  # never raises: the points wait for the server
    with pytest.raises(sdk.ChronicleNetworkError) as err:
        run.flush()
    assert err.value.code == "NETWORK_ERROR" and server.url in str(err.value)
    assert errors and all(isinstance(e, sdk.ChronicleNetworkError) for e in errors)
    assert run.stats.pending_points == 500
    start_again(server)
    run.finish()
    assert [p["step"] for p in history(server, run.id, "loss")] == list(range(1000))
    assert sdk.Client(server.url, server.admin_token).get_run(run.id).status == "FINISHED"


def test_a_full_buffer_with_the_server_down_refuses_instead_of_hanging(chronicle_fresh):
    server = chronicle_fresh
    client = sdk.Client(server.url, server.admin_token, retry=FAST_RETRY, flush_interval=0.05, on_flush_error=lambda e: None)
    run = client.start_run("full", max_batch_points=100, max_buffered_points=1000)
    stop_server(server)
    with pytest.raises(sdk.ChronicleBufferFullError) as err:
        for step in range(100_000):
            run.log({"x": float(step)}, step=step)
    assert isinstance(err.value.__cause__, sdk.ChronicleNetworkError)
    kept = run.stats.logged_points
    assert 1000 <= kept < 1200
    start_again(server)
    run.finish()
    assert len(history(server, run.id, "x")) == kept


def test_a_sender_process_that_dies_is_replaced_without_loss_or_duplicates(chronicle):
    # A slow link keeps batches in flight; the sender process is killed mid-way. Its successor
    # gets every batch not acknowledged yet, with the same keys: some may have reached the
    # server already, none is stored twice.
    with LossyProxy(chronicle.url, lambda m, p: False, drop=0, delay=0.3) as proxy:
        client = sdk.Client(proxy.url, chronicle.admin_token, max_batch_points=50, flush_interval=0.05, on_flush_error=lambda e: None)
        run = client.start_run("sender-dies", capture_git=False)
        for step in range(200):
            run.log({"loss": float(step)}, step=step)
        buffer = run._buffer
        while buffer.taken < buffer.appended:
            time.sleep(0.01)
        time.sleep(0.45)  # the first batch is on the server, its answer on the way back
        sender = buffer.sender
        old = sender._proc
        old.kill()
        old.wait()
        run.finish()
        assert sender._proc is not None and sender._proc.pid != old.pid
    assert [p["step"] for p in history(chronicle, run.id, "loss")] == list(range(200))
    keys = [key for method, path, key in proxy.seen if path.endswith("/metrics")]
    assert len(set(keys)) == 4
