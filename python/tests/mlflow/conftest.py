"""The real `mlflow` client, pointed at a real Chronicle server."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def mlflow_client(chronicle: Any) -> Any:
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(chronicle.url)
    mlflow.set_registry_uri(chronicle.url)
    return MlflowClient(tracking_uri=chronicle.url, registry_uri=chronicle.url)


@pytest.fixture(autouse=True)
def _tracking_uri(chronicle: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", chronicle.url)
    # Fail fast: the client's default retries would hide an error behind minutes of backoff.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    mlflow.set_tracking_uri(chronicle.url)
    mlflow.set_registry_uri(chronicle.url)
    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()
