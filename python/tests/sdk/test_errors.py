"""Typed errors that carry the server's code, status and details."""

from __future__ import annotations

import pickle
import socket
import time

import pytest

import chronicle as sdk
from chronicle.errors import is_retryable


def test_bad_token_is_unauthenticated(chronicle):
    c = sdk.Client(chronicle.url, "chr_not-a-real-token")
    with pytest.raises(sdk.ChronicleApiError) as err:
        c.start_run("nope")
    assert (err.value.code, err.value.status) == ("UNAUTHENTICATED", 401)
    assert "token" in err.value.message
    assert not is_retryable(err.value)


def test_unknown_run_is_not_found(client):
    with pytest.raises(sdk.ChronicleApiError) as err:
        client.resume_run("no-such-run")
    assert (err.value.code, err.value.status) == ("NOT_FOUND", 404)
    assert err.value.details["runId"] == "no-such-run"
    with pytest.raises(sdk.ChronicleApiError) as err:
        client.download_artifact("no-such-run", "model.bin", "/tmp/never-written")
    assert (err.value.code, err.value.status) == ("NOT_FOUND", 404)


def test_changing_a_param_is_bad_user_input_with_details(client):
    with client.start_run("params") as run:
        run.log_params({"lr": 0.1})
        run.log_params({"lr": 0.1})  # the same value again is fine
        with pytest.raises(sdk.ChronicleApiError) as err:
            run.log_params({"lr": 0.2})
    assert (err.value.code, err.value.status) == ("BAD_USER_INPUT", 400)
    assert err.value.details["key"] == "lr" and err.value.details["oldValue"] == "0.1"


def test_unknown_parent_and_experiment(client):
    with pytest.raises(sdk.ChronicleApiError) as err:
        client.start_run("orphan", parent="no-such-parent", experiment_id="0")
    assert err.value.code == "NOT_FOUND"
    with pytest.raises(sdk.ChronicleApiError) as err:
        client.start_run("lost", experiment_id="no-such-experiment")
    assert err.value.code == "NOT_FOUND"


def test_unreachable_server_is_a_network_error_with_a_clear_message():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    c = sdk.Client(f"http://127.0.0.1:{port}", retry=sdk.RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02))
    start = time.monotonic()
    with pytest.raises(sdk.ChronicleNetworkError) as err:
        c.start_run("nowhere")
    assert time.monotonic() - start < 5
    assert err.value.code == "NETWORK_ERROR"
    assert str(err.value) == f"cannot reach Chronicle at http://127.0.0.1:{port}: connection refused (is the server running?)"
    assert is_retryable(err.value)


def test_malformed_url_is_a_config_error():
    with pytest.raises(sdk.ChronicleConfigError):
        sdk.Client("localhost:4000")


def test_graphql_errors_keep_their_code(client):
    with pytest.raises(sdk.ChronicleApiError) as err:
        client.graphql("{ nope }")
    assert err.value.code == "GRAPHQL_VALIDATION_FAILED" and err.value.status == 400


def test_errors_survive_pickling():
    e = sdk.ChronicleApiError("gone", code="NOT_FOUND", status=404, details={"runId": "r"})
    back = pickle.loads(pickle.dumps(e))
    assert (back.code, back.status, dict(back.details), back.message) == ("NOT_FOUND", 404, {"runId": "r"}, "gone")
    n = pickle.loads(pickle.dumps(sdk.ChronicleNetworkError("down", url="http://x", timed_out=True)))
    assert n.code == "TIMEOUT" and n.url == "http://x"
