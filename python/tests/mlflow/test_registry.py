"""MLflow's model registry, driven by the real `mlflow` client against Chronicle.

Every call goes through MlflowClient or the fluent API exactly as user code makes it; the
results are then checked through Chronicle's own GraphQL API, which reads the same events.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import mlflow
import pytest
import requests
from mlflow.exceptions import MlflowException, RestException

MLFLOW_MAJOR = int(mlflow.__version__.split(".")[0])


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def error_code(e: MlflowException) -> str:
    return e.error_code if isinstance(e.error_code, str) else str(e.error_code)


def run_with_files(tmp_path: Path, metrics: dict[str, float] | None = None) -> str:
    """A finished run holding a small model directory under `model/`, uploaded as proxied artifacts."""
    model_dir = tmp_path / "model"
    model_dir.mkdir(exist_ok=True)
    (model_dir / "weights.bin").write_bytes(uuid.uuid4().bytes * 64)
    (model_dir / "config.json").write_text('{"layers": 3}')
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(model_dir), artifact_path="model")
        for k, v in (metrics or {}).items():
            mlflow.log_metric(k, v)
    return run.info.run_id


def graphql_model(chronicle: Any, name: str) -> dict[str, Any] | None:
    """The model as Chronicle's GraphQL API shows it, or None when there is none by that name."""
    models = chronicle.graphql(
        """query($name: String!) { models(nameContains: $name) {
             name description tags { key value }
             versions { version stage description aliases artifactPath sha256 format source tags { key value } run { id } }
             aliases { alias version }
           } }""",
        {"name": name},
    )["models"]
    return next((m for m in models if m["name"] == name), None)


def raw(chronicle: Any, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{chronicle.url}/api/2.0/mlflow/{path}", timeout=30, **kwargs)


# --- registered models -------------------------------------------------------------------


def test_registered_model_lifecycle(mlflow_client: Any, chronicle: Any) -> None:
    name = unique("lifecycle")
    created = mlflow_client.create_registered_model(name, tags={"team": "risk"}, description="first")
    assert created.name == name
    assert created.description == "first"
    assert created.tags == {"team": "risk"}

    mlflow_client.update_registered_model(name, description="second")
    mlflow_client.set_registered_model_tag(name, "owner", "ana")
    mlflow_client.delete_registered_model_tag(name, "team")
    got = mlflow_client.get_registered_model(name)
    assert got.description == "second"
    assert got.tags == {"owner": "ana"}
    assert got.creation_timestamp <= got.last_updated_timestamp

    model = graphql_model(chronicle, name)
    assert model is not None
    assert model["description"] == "second"
    assert model["tags"] == [{"key": "owner", "value": "ana"}]

    renamed = unique("renamed")
    mlflow_client.rename_registered_model(name, renamed)  # (the client returns None, whatever the server answers)
    with pytest.raises(MlflowException) as missing:
        mlflow_client.get_registered_model(name)
    assert error_code(missing.value) == "RESOURCE_DOES_NOT_EXIST"
    assert mlflow_client.get_registered_model(renamed).tags == {"owner": "ana"}
    assert chronicle.graphql("query($n: String!) { models(nameContains: $n) { name } }", {"n": name})["models"] == []

    mlflow_client.delete_registered_model(renamed)
    with pytest.raises(MlflowException) as gone:
        mlflow_client.get_registered_model(renamed)
    assert error_code(gone.value) == "RESOURCE_DOES_NOT_EXIST"
    # The name is free again, and a new model under it starts from version 1.
    mlflow_client.create_registered_model(renamed)


def test_rename_keeps_versions_aliases_and_numbering(mlflow_client: Any, tmp_path: Path) -> None:
    name = unique("before")
    mlflow_client.create_registered_model(name)
    run_id = run_with_files(tmp_path)
    mlflow_client.create_model_version(name, f"runs:/{run_id}/model", run_id)
    mlflow_client.set_registered_model_alias(name, "champion", "1")
    after = unique("after")
    mlflow_client.rename_registered_model(name, after)
    assert mlflow_client.get_model_version_by_alias(after, "champion").version == "1"
    assert mlflow_client.create_model_version(after, f"runs:/{run_id}/model", run_id).version == "2"


def test_search_registered_models_filters_orders_and_pages(mlflow_client: Any) -> None:
    prefix = unique("search")
    for i, team in enumerate(["a", "b", "a"]):
        mlflow_client.create_registered_model(f"{prefix}-{i}", tags={"team": team})

    found = mlflow_client.search_registered_models(filter_string=f"name LIKE '{prefix}-%'", order_by=["name DESC"])
    assert [m.name for m in found] == [f"{prefix}-2", f"{prefix}-1", f"{prefix}-0"]

    by_tag = mlflow_client.search_registered_models(filter_string=f"name LIKE '{prefix}%' AND tags.team = 'a'")
    assert sorted(m.name for m in by_tag) == [f"{prefix}-0", f"{prefix}-2"]
    assert [m.name for m in mlflow_client.search_registered_models(filter_string=f"name = '{prefix}-1'")] == [f"{prefix}-1"]
    # LIKE is case-sensitive (as in MLflow); ILIKE is not.
    assert mlflow_client.search_registered_models(filter_string=f"name LIKE '{prefix.upper()}%'") == []
    assert len(mlflow_client.search_registered_models(filter_string=f"name ILIKE '{prefix.upper()}%'")) == 3

    page1 = mlflow_client.search_registered_models(filter_string=f"name LIKE '{prefix}%'", max_results=2)
    assert [m.name for m in page1] == [f"{prefix}-0", f"{prefix}-1"]
    assert page1.token
    page2 = mlflow_client.search_registered_models(filter_string=f"name LIKE '{prefix}%'", max_results=2, page_token=page1.token)
    assert [m.name for m in page2] == [f"{prefix}-2"]
    assert not page2.token


# --- model versions -----------------------------------------------------------------------


def test_model_versions_from_run_artifacts(mlflow_client: Any, chronicle: Any, tmp_path: Path) -> None:
    name = unique("versions")
    mlflow_client.create_registered_model(name)
    run_id = run_with_files(tmp_path)
    run = mlflow_client.get_run(run_id)

    v1 = mlflow_client.create_model_version(name, f"runs:/{run_id}/model", run_id, tags={"k": "v"}, description="from runs:/")
    assert (v1.version, v1.run_id, v1.status, v1.current_stage) == ("1", run_id, "READY", "None")
    assert v1.tags == {"k": "v"}
    # The artifact URI form MLflow 2's register_model sends names the same files.
    v2 = mlflow_client.create_model_version(name, f"{run.info.artifact_uri}/model", run_id)
    assert v2.version == "2"

    mlflow_client.update_model_version(name, "1", description="updated")
    mlflow_client.set_model_version_tag(name, "1", "validated", "yes")
    mlflow_client.delete_model_version_tag(name, "1", "k")
    got = mlflow_client.get_model_version(name, "1")
    assert got.description == "updated"
    assert got.tags == {"validated": "yes"}
    assert got.source == f"runs:/{run_id}/model"

    assert mlflow_client.get_model_version_download_uri(name, "1") == f"{run.info.artifact_uri}/model"

    by_name = mlflow_client.search_model_versions(f"name = '{name}'")
    assert sorted(v.version for v in by_name) == ["1", "2"]
    by_run = mlflow_client.search_model_versions(f"run_id = '{run_id}'")
    assert {(v.name, v.version) for v in by_run} == {(name, "1"), (name, "2")}
    by_tag = mlflow_client.search_model_versions(f"name = '{name}' AND tags.validated = 'yes'")
    assert [v.version for v in by_tag] == ["1"]

    # Both versions point at the same content: the manifest of the model directory.
    model = graphql_model(chronicle, name)
    assert model is not None
    versions = {v["version"]: v for v in model["versions"]}
    assert versions[1]["sha256"] == versions[2]["sha256"]
    assert versions[1]["artifactPath"] == "model"
    assert versions[1]["run"]["id"] == run_id
    assert versions[1]["description"] == "updated"
    assert versions[1]["tags"] == [{"key": "validated", "value": "yes"}]
    assert versions[1]["source"] == f"runs:/{run_id}/model"
    assert versions[2]["source"] == f"{run.info.artifact_uri}/model"

    mlflow_client.delete_model_version(name, "2")
    with pytest.raises(MlflowException) as gone:
        mlflow_client.get_model_version(name, "2")
    assert error_code(gone.value) == "RESOURCE_DOES_NOT_EXIST"
    # Numbers are never reused.
    assert mlflow_client.create_model_version(name, f"runs:/{run_id}/model", run_id).version == "3"


def test_fluent_register_model(chronicle: Any, tmp_path: Path) -> None:
    name = unique("fluent")
    run_id = run_with_files(tmp_path)
    if MLFLOW_MAJOR >= 3:
        # MLflow 3 registers `runs:/` only when the path holds an MLmodel; plain files go by their artifact URI.
        source = f"{mlflow.get_run(run_id).info.artifact_uri}/model"
    else:
        source = f"runs:/{run_id}/model"
    version = mlflow.register_model(source, name)
    assert version.version == "1"
    # Registering again into the existing model makes version 2 (the client ignores "already exists").
    assert mlflow.register_model(source, name).version == "2"


# --- aliases and stages -------------------------------------------------------------------


def test_aliases_and_their_history(mlflow_client: Any, chronicle: Any, tmp_path: Path) -> None:
    name = unique("aliases")
    mlflow_client.create_registered_model(name)
    run_id = run_with_files(tmp_path)
    for _ in range(2):
        mlflow_client.create_model_version(name, f"runs:/{run_id}/model", run_id, description=uuid.uuid4().hex)

    mlflow_client.set_registered_model_alias(name, "champion", "1")
    assert mlflow_client.get_model_version_by_alias(name, "champion").version == "1"
    mlflow_client.set_registered_model_alias(name, "champion", "2")
    mv = mlflow_client.get_model_version_by_alias(name, "champion")
    assert (mv.version, mv.aliases) == ("2", ["champion"])
    assert mlflow_client.get_registered_model(name).aliases == {"champion": "2"}

    # MLflow keeps no history of which version held an alias; Chronicle does.
    history = chronicle.graphql(
        "query($m: String!) { aliasHistory(model: $m, alias: \"champion\") { version toTime setBy } }", {"m": name}
    )["aliasHistory"]
    assert [p["version"] for p in history] == [1, 2]
    assert history[0]["toTime"] is not None and history[1]["toTime"] is None

    mlflow_client.delete_registered_model_alias(name, "champion")
    mlflow_client.delete_registered_model_alias(name, "champion")  # already gone: still a success
    with pytest.raises(MlflowException) as missing:
        mlflow_client.get_model_version_by_alias(name, "champion")
    assert error_code(missing.value) == "RESOURCE_DOES_NOT_EXIST"
    model = graphql_model(chronicle, name)
    assert model is not None and model["aliases"] == []


def test_stage_transitions_and_latest_versions(mlflow_client: Any, chronicle: Any, tmp_path: Path) -> None:
    name = unique("stages")
    mlflow_client.create_registered_model(name)
    run_id = run_with_files(tmp_path)
    for _ in range(3):
        mlflow_client.create_model_version(name, f"runs:/{run_id}/model", run_id, description=uuid.uuid4().hex)

    assert mlflow_client.transition_model_version_stage(name, "1", "Production").current_stage == "Production"
    mlflow_client.transition_model_version_stage(name, "2", "staging")  # stage names in any case
    moved = mlflow_client.transition_model_version_stage(name, "3", "Production", archive_existing_versions=True)
    assert moved.current_stage == "Production"
    assert mlflow_client.get_model_version(name, "1").current_stage == "Archived"

    latest = {v.current_stage: v.version for v in mlflow_client.get_latest_versions(name)}
    assert latest == {"Archived": "1", "Staging": "2", "Production": "3"}
    assert [v.version for v in mlflow_client.get_latest_versions(name, stages=["Production"])] == ["3"]
    assert {v.current_stage: v.version for v in mlflow_client.get_registered_model(name).latest_versions} == latest

    history = chronicle.graphql(
        "query($m: String!) { stageHistory(model: $m, stage: PRODUCTION) { version toTime } }", {"m": name}
    )["stageHistory"]
    assert [(p["version"], p["toTime"] is None) for p in history] == [(1, False), (3, True)]

    with pytest.raises(MlflowException) as bad:
        mlflow_client.transition_model_version_stage(name, "1", "Shipped")
    assert error_code(bad.value) == "INVALID_PARAMETER_VALUE"


def test_promotion_gate_refusal_reaches_the_mlflow_client(mlflow_client: Any, chronicle: Any, tmp_path: Path) -> None:
    name = unique("gated")
    mlflow_client.create_registered_model(name)
    weak = run_with_files(tmp_path, {"accuracy": 0.5})
    mlflow_client.create_model_version(name, f"runs:/{weak}/model", weak)
    chronicle.graphql(
        """mutation($m: String!) { setPromotionGates(model: $m, target: "champion", metricRules: ["metrics.accuracy >= 0.9"]) { version } }""",
        {"m": name},
    )
    with pytest.raises(MlflowException) as refused:
        mlflow_client.set_registered_model_alias(name, "champion", "1")
    assert error_code(refused.value) == "INVALID_STATE"
    assert "metrics.accuracy >= 0.9" in refused.value.message
    assert "0.5" in refused.value.message

    # The refusal is on record, and the alias did not move.
    refusals = chronicle.graphql("query($m: String!) { promotionRefusals(model: $m) { version target passed } }", {"m": name})
    assert refusals["promotionRefusals"] == [{"version": 1, "target": "champion", "passed": False}]
    assert mlflow_client.get_registered_model(name).aliases == {}

    strong = run_with_files(tmp_path, {"accuracy": 0.95})
    mlflow_client.create_model_version(name, f"runs:/{strong}/model", strong)
    mlflow_client.set_registered_model_alias(name, "champion", "2")
    assert mlflow_client.get_model_version_by_alias(name, "champion").version == "2"


# --- wire rules: errors, statuses, retries -----------------------------------------------


def test_errors_have_mlflow_codes_and_statuses(chronicle: Any, mlflow_client: Any, tmp_path: Path) -> None:
    name = unique("errors")
    mlflow_client.create_registered_model(name, description="one")

    def expect(res: requests.Response, status: int, code: str) -> dict[str, Any]:
        body = res.json()
        assert (res.status_code, body.get("error_code")) == (status, code), body
        assert isinstance(body.get("message"), str) and body["message"]
        return body

    expect(raw(chronicle, "GET", "registered-models/get", params={"name": unique("nope")}), 404, "RESOURCE_DOES_NOT_EXIST")
    # Another creation of a taken name (not a retry: the description differs) is RESOURCE_ALREADY_EXISTS.
    expect(raw(chronicle, "POST", "registered-models/create", json={"name": name, "description": "two"}), 400, "RESOURCE_ALREADY_EXISTS")
    expect(raw(chronicle, "POST", "registered-models/create", json={}), 400, "INVALID_PARAMETER_VALUE")
    expect(raw(chronicle, "POST", "registered-models/create", json={"name": "has/slash"}), 400, "INVALID_PARAMETER_VALUE")
    expect(raw(chronicle, "GET", "model-versions/get", params={"name": name, "version": "abc"}), 400, "INVALID_PARAMETER_VALUE")
    expect(raw(chronicle, "GET", "model-versions/get", params={"name": name, "version": "7"}), 404, "RESOURCE_DOES_NOT_EXIST")
    expect(raw(chronicle, "GET", "registered-models/search", params={"filter": "name LIKE 'x' OR name = 'y'"}), 400, "INVALID_PARAMETER_VALUE")
    expect(raw(chronicle, "GET", "registered-models/search", params={"filter": "owner = 'x'"}), 400, "INVALID_PARAMETER_VALUE")
    expect(raw(chronicle, "GET", "registered-models/search", params={"max_results": "5000"}), 400, "INVALID_PARAMETER_VALUE")
    expect(raw(chronicle, "GET", "registered-models/search", params={"page_token": "garbage"}), 400, "INVALID_PARAMETER_VALUE")
    expect(raw(chronicle, "GET", "model-versions/search", params={"order_by": "color"}), 400, "INVALID_PARAMETER_VALUE")
    expect(
        raw(chronicle, "POST", "model-versions/create", json={"name": name, "source": "s3://bucket/model"}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    expect(
        raw(chronicle, "POST", "model-versions/create", json={"name": name, "source": f"runs:/{uuid.uuid4().hex}/model"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    run_id = run_with_files(tmp_path)
    expect(
        raw(chronicle, "POST", "model-versions/create", json={"name": name, "source": f"runs:/{run_id}/no-such-dir"}),
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    expect(
        raw(chronicle, "POST", "model-versions/create", json={"name": name, "source": f"runs:/{run_id}/model", "run_id": uuid.uuid4().hex}),
        400,
        "INVALID_PARAMETER_VALUE",
    )
    expect(raw(chronicle, "GET", "registered-models/no-such-endpoint"), 404, "ENDPOINT_NOT_FOUND")

    # The UI's prefix serves the same API.
    ui = requests.get(f"{chronicle.url}/ajax-api/2.0/mlflow/registered-models/get", params={"name": name}, timeout=30)
    assert ui.json()["registered_model"]["description"] == "one"

    # Empty successes are `{}`.
    ok = raw(chronicle, "POST", "registered-models/set-tag", json={"name": name, "key": "k", "value": "v"})
    assert (ok.status_code, ok.json()) == (200, {})


def versions_of(chronicle: Any, name: str) -> list[int]:
    model = graphql_model(chronicle, name)
    return sorted(v["version"] for v in model["versions"]) if model else []


# A retry of a create whose answer was lost (the client retries 5xx, timeouts and dropped
# connections without an idempotency key) is answered without a second version: that needs the
# connection to drop at a chosen moment, so it is tested in apps/server/src/mlflow/registry.test.ts.


def test_repeating_a_request_whose_answer_arrived_registers_again(chronicle: Any, tmp_path: Path) -> None:
    name = unique("again")
    assert raw(chronicle, "POST", "registered-models/create", json={"name": name}).status_code == 200
    # The client got that answer, so the same request again is a second creation: MLflow's "already exists".
    twice = raw(chronicle, "POST", "registered-models/create", json={"name": name})
    assert (twice.status_code, twice.json()["error_code"]) == (400, "RESOURCE_ALREADY_EXISTS")

    run_id = run_with_files(tmp_path)
    body = {"name": name, "source": f"runs:/{run_id}/model", "run_id": run_id}
    made = [raw(chronicle, "POST", "model-versions/create", json=body).json()["model_version"]["version"] for _ in range(2)]
    assert made == ["1", "2"]
    # With an Idempotency-Key the key alone decides: the same key is one creation, a new key another.
    keyed = [
        raw(chronicle, "POST", "model-versions/create", json=body, headers={"Idempotency-Key": f"{name}-{k}"}).json()["model_version"]["version"]
        for k in ("a", "a", "b")
    ]
    assert keyed == ["3", "3", "4"]
    assert versions_of(chronicle, name) == [1, 2, 3, 4]


def test_registry_reads_need_no_token_but_honour_one(chronicle: Any) -> None:
    name = unique("token")
    res = raw(chronicle, "POST", "registered-models/create", json={"name": name}, headers={"Authorization": f"Bearer {chronicle.admin_token}"})
    assert res.status_code == 200
    bad = raw(chronicle, "GET", "registered-models/get", params={"name": name}, headers={"Authorization": "Bearer chr_nope_x"})
    assert bad.status_code == 401
    assert bad.json()["error_code"] == "UNAUTHENTICATED"
