"""MLflow's wire rules over raw HTTP: error shapes and statuses, limits, NaN/Infinity, retries."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from _helpers import as_dict, call, history, run_graphql, unique

API = "/api/2.0/mlflow"


@pytest.fixture()
def run_id(chronicle: Any) -> str:
    status, body = call(chronicle.url, "POST", f"{API}/runs/create", {"experiment_id": "0", "start_time": int(time.time() * 1000)})
    assert status == 200
    return body["run"]["info"]["run_id"]


def test_error_shape_and_statuses(chronicle: Any) -> None:
    status, body = call(chronicle.url, "GET", f"{API}/experiments/get?experiment_id=does-not-exist")
    assert status == 404 and set(body) == {"error_code", "message"} and body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    status, body = call(chronicle.url, "GET", f"{API}/runs/get?run_id={'0' * 32}")
    assert (status, body["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    status, body = call(chronicle.url, "POST", f"{API}/experiments/create", {})
    assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE" and "'name'" in body["message"]
    status, body = call(chronicle.url, "POST", f"{API}/no/such/endpoint", {})
    assert (status, body["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
    status, body = call(chronicle.url, "POST", f"{API}/runs/log-batch", b"{not json", {"content-type": "application/json"})
    assert status == 400 and body["error_code"] == "BAD_REQUEST"
    name = unique("dup")
    assert call(chronicle.url, "POST", f"{API}/experiments/create", {"name": name})[0] == 200
    status, body = call(chronicle.url, "POST", f"{API}/experiments/create", {"name": name, "tags": [{"key": "a", "value": "b"}]})
    assert (status, body["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")
    status, body = call(chronicle.url, "POST", f"{API}/experiments/delete", {"experiment_id": "0"})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_empty_success_and_both_run_ids(chronicle: Any, run_id: str) -> None:
    assert call(chronicle.url, "POST", f"{API}/runs/log-parameter", {"run_uuid": run_id, "key": "p", "value": "1"}) == (200, {})
    status, body = call(chronicle.url, "GET", f"{API}/runs/get?run_uuid={run_id}")
    info = body["run"]["info"]
    assert status == 200 and info["run_id"] == info["run_uuid"] == run_id
    assert info["artifact_uri"] == f"mlflow-artifacts:/0/{run_id}/artifacts"
    assert body["run"]["data"]["params"] == [{"key": "p", "value": "1"}]


def test_nan_and_infinity_travel_as_strings(chronicle: Any, run_id: str) -> None:
    for step, value in enumerate(["NaN", "Infinity", "-Infinity", 2.5]):
        assert call(chronicle.url, "POST", f"{API}/runs/log-metric", {"run_id": run_id, "key": "v", "value": value, "timestamp": 1, "step": step}) == (200, {})
    status, body = call(chronicle.url, "GET", f"{API}/metrics/get-history?run_id={run_id}&metric_key=v")
    assert status == 200
    assert [m["value"] for m in body["metrics"]] == ["NaN", "Infinity", "-Infinity", 2.5]
    latest = call(chronicle.url, "GET", f"{API}/runs/get?run_id={run_id}")[1]["run"]["data"]["metrics"]
    assert latest == [{"key": "v", "value": 2.5, "timestamp": 1, "step": 3}]
    status, body = call(chronicle.url, "POST", f"{API}/runs/log-metric", {"run_id": run_id, "key": "v", "value": "abc", "timestamp": 1})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_log_batch_limits(chronicle: Any, run_id: str) -> None:
    def batch(metrics: int = 0, params: int = 0, tags: int = 0) -> tuple[int, Any]:
        return call(
            chronicle.url,
            "POST",
            f"{API}/runs/log-batch",
            {
                "run_id": run_id,
                "metrics": [{"key": "m", "value": i, "timestamp": 1, "step": i} for i in range(metrics)],
                "params": [{"key": f"p{i}", "value": "v"} for i in range(params)],
                "tags": [{"key": f"t{i}", "value": "v"} for i in range(tags)],
            },
        )

    for args, what in [((1001, 0, 0), "1000 metrics"), ((0, 101, 0), "100 params"), ((0, 0, 101), "100 tags"), ((901, 100, 0), "1000 metrics, params, and tags")]:
        status, body = batch(*args)
        assert status == 400 and body["error_code"] == "INVALID_PARAMETER_VALUE"
        assert f"at most {what}" in body["message"]
    assert history(chronicle, run_id, "m")["totalCount"] == 0
    assert batch(900, 100, 0) == (200, {})
    assert history(chronicle, run_id, "m")["totalCount"] == 900
    status, body = call(chronicle.url, "POST", f"{API}/runs/log-parameter", {"run_id": run_id, "key": "long", "value": "x" * 6001})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    assert call(chronicle.url, "POST", f"{API}/runs/log-parameter", {"run_id": run_id, "key": "long", "value": "x" * 6000}) == (200, {})


def test_retried_log_batch_records_points_once(chronicle: Any, run_id: str) -> None:
    body = {
        "run_id": run_id,
        "metrics": [{"key": "loss", "value": 1 / (s + 1), "timestamp": 1000 + s, "step": s} for s in range(100)],
        "params": [{"key": "lr", "value": "0.1"}],
        "tags": [{"key": "phase", "value": "a"}],
    }
    for _ in range(3):
        assert call(chronicle.url, "POST", f"{API}/runs/log-batch", body) == (200, {})
    assert history(chronicle, run_id, "loss")["totalCount"] == 100
    # The same points with another tag: the points stay once, the tag applies, as in MLflow.
    body["tags"] = [{"key": "phase", "value": "b"}]
    assert call(chronicle.url, "POST", f"{API}/runs/log-batch", body) == (200, {})
    assert history(chronicle, run_id, "loss")["totalCount"] == 100
    assert as_dict(run_graphql(chronicle, run_id)["tags"])["phase"] == "b"
    # New points are new.
    body["metrics"] = [{"key": "loss", "value": 0.001, "timestamp": 5000, "step": 100}]
    assert call(chronicle.url, "POST", f"{API}/runs/log-batch", body) == (200, {})
    assert history(chronicle, run_id, "loss")["totalCount"] == 101


def test_retried_single_writes_are_harmless(chronicle: Any, run_id: str) -> None:
    metric = {"run_id": run_id, "key": "acc", "value": 0.5, "timestamp": 42, "step": 7}
    for _ in range(2):
        assert call(chronicle.url, "POST", f"{API}/runs/log-metric", metric) == (200, {})
        assert call(chronicle.url, "POST", f"{API}/runs/log-parameter", {"run_id": run_id, "key": "k", "value": "v"}) == (200, {})
        assert call(chronicle.url, "POST", f"{API}/runs/set-tag", {"run_id": run_id, "key": "t", "value": "v"}) == (200, {})
    assert history(chronicle, run_id, "acc")["totalCount"] == 1
    assert call(chronicle.url, "POST", f"{API}/runs/delete-tag", {"run_id": run_id, "key": "t"}) == (200, {})
    assert call(chronicle.url, "POST", f"{API}/runs/delete-tag", {"run_id": run_id, "key": "t"}) == (200, {})
    done = {"run_id": run_id, "status": "FINISHED", "end_time": int(time.time() * 1000)}
    for _ in range(2):
        status, body = call(chronicle.url, "POST", f"{API}/runs/update", done)
        assert status == 200 and body["run_info"]["status"] == "FINISHED"
    events = chronicle.graphql('query($e: String!) { history(entity: $e) { nodes { type } } }', {"e": f"run:{run_id}"})["history"]["nodes"]
    types = [e["type"] for e in events]
    assert types.count("RunParamsLogged") == 1 and types.count("RunTagsSet") == 1 and types.count("RunFinished") == 1


def test_identical_create_run_requests_make_two_runs(chronicle: Any) -> None:
    """Two real runs may send byte-identical requests; they must never merge."""
    body = {"experiment_id": "0", "start_time": 1700000000000, "run_name": "same", "tags": [{"key": "mlflow.user", "value": "ada"}]}
    first = call(chronicle.url, "POST", f"{API}/runs/create", body)[1]["run"]["info"]["run_id"]
    second = call(chronicle.url, "POST", f"{API}/runs/create", body)[1]["run"]["info"]["run_id"]
    assert first != second
    # A client that wants retry-safe creation says so with an Idempotency-Key header.
    key = {"idempotency-key": unique("create")}
    a = call(chronicle.url, "POST", f"{API}/runs/create", body, key)[1]["run"]["info"]["run_id"]
    b = call(chronicle.url, "POST", f"{API}/runs/create", body, key)[1]["run"]["info"]["run_id"]
    assert a == b and a not in (first, second)


def test_retried_create_experiment_answers_the_same_experiment(chronicle: Any) -> None:
    body = {"name": unique("retry"), "tags": [{"key": "team", "value": "ml"}]}
    first = call(chronicle.url, "POST", f"{API}/experiments/create", body)
    second = call(chronicle.url, "POST", f"{API}/experiments/create", body)
    assert first[0] == second[0] == 200 and first[1] == second[1]
    found = chronicle.graphql("query($n: String) { experiment(name: $n) { id } }", {"n": body["name"]})["experiment"]
    assert found["id"] == first[1]["experiment_id"]


def test_create_run_names_and_nesting(chronicle: Any) -> None:
    status, body = call(chronicle.url, "POST", f"{API}/runs/create", {"experiment_id": "0"})
    info = body["run"]["info"]
    assert status == 200 and info["run_name"], "a run without a name gets a generated one"
    assert {"key": "mlflow.runName", "value": info["run_name"]} in body["run"]["data"]["tags"]
    status, body = call(
        chronicle.url, "POST", f"{API}/runs/create", {"experiment_id": "0", "run_name": "a", "tags": [{"key": "mlflow.runName", "value": "b"}]}
    )
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
    parent = info["run_id"]
    child = call(chronicle.url, "POST", f"{API}/runs/create", {"experiment_id": "0", "tags": [{"key": "mlflow.parentRunId", "value": parent}]})[1]
    assert run_graphql(chronicle, child["run"]["info"]["run_id"])["parentRunId"] == parent


def test_bulk_interval_history(chronicle: Any, run_id: str) -> None:
    call(
        chronicle.url,
        "POST",
        f"{API}/runs/log-batch",
        {"run_id": run_id, "metrics": [{"key": "s", "value": i, "timestamp": i, "step": i} for i in range(1000)]},
    )
    status, body = call(chronicle.url, "GET", f"{API}/metrics/get-history-bulk-interval?run_ids={run_id}&metric_key=s&max_results=11")
    assert status == 200
    # Evenly spread over the 1000 steps, first and last kept.
    assert [m["step"] for m in body["metrics"]] == [round(i * 999 / 10) for i in range(11)]
    assert all(m["run_id"] == run_id for m in body["metrics"])
    status, body = call(
        chronicle.url, "GET", f"{API}/metrics/get-history-bulk-interval?run_ids={run_id}&metric_key=s&start_step=10&end_step=12"
    )
    assert [m["step"] for m in body["metrics"]] == [10, 11, 12]


def test_loopback_write_without_token_is_admin_but_bad_token_is_refused(chronicle: Any) -> None:
    status, body = call(chronicle.url, "GET", f"{API}/experiments/get?experiment_id=0", headers={"authorization": "Bearer nope"})
    assert status == 401 and body["error_code"] == "UNAUTHENTICATED"


def test_log_model_records_history_once_per_model(chronicle: Any, run_id: str) -> None:
    model = {"run_id": run_id, "artifact_path": "model", "utc_time_created": "2026-11-27 00:00:00", "model_uuid": "u1", "flavors": {}}
    for _ in range(2):
        assert call(chronicle.url, "POST", f"{API}/runs/log-model", {"run_id": run_id, "model_json": json.dumps(model)}) == (200, {})
    other = {**model, "model_uuid": "u2", "artifact_path": "model2"}
    assert call(chronicle.url, "POST", f"{API}/runs/log-model", {"run_id": run_id, "model_json": json.dumps(other)}) == (200, {})
    tags = as_dict(run_graphql(chronicle, run_id)["tags"])
    assert json.loads(tags["mlflow.log-model.history"]) == [model, other]
    status, body = call(chronicle.url, "POST", f"{API}/runs/log-model", {"run_id": run_id, "model_json": "not json"})
    assert (status, body["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_log_inputs_with_logged_models(chronicle: Any, run_id: str) -> None:
    body = {"run_id": run_id, "models": [{"model_id": "m-abc"}, {"model_id": "m-abc"}]}
    for _ in range(2):
        assert call(chronicle.url, "POST", f"{API}/runs/log-inputs", body) == (200, {})
    got = call(chronicle.url, "GET", f"{API}/runs/get?run_id={run_id}")[1]["run"]["inputs"]
    assert got["model_inputs"] == [{"model_id": "m-abc"}]
    g = chronicle.graphql("query($id: ID!) { run(id: $id) { modelInputs } }", {"id": run_id})["run"]
    assert g["modelInputs"] == ["m-abc"]
