"""Small helpers shared by the MLflow compatibility tests (not fixtures: plain functions)."""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.request
import uuid
from typing import Any


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def call(url: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One raw HTTP request, as any client would send it; returns (status, parsed JSON or text)."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("content-type", "application/json")
    req = urllib.request.Request(f"{url}{path}", data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            status, raw = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw


def run_graphql(chronicle: Any, run_id: str) -> dict[str, Any]:
    return chronicle.graphql(
        """query($id: ID!) { run(id: $id) {
            id name status lifecycle experimentId parentRunId startTime endTime userId
            source { gitCommit source }
            params { key value } tags { key value }
            metrics { key value step timestamp count }
            children { id name }
            artifacts { path size sha256 contentType }
            datasets { name digest sourceType source schema profile tags { key value } }
        } }""",
        {"id": run_id},
    )["run"]


def as_dict(pairs: list[dict[str, str]]) -> dict[str, str]:
    return {p["key"]: p["value"] for p in pairs}


def history(chronicle: Any, run_id: str, key: str) -> dict[str, Any]:
    return chronicle.graphql(
        """query($id: ID!, $key: String!) { metricHistory(runId: $id, key: $key, first: 100000) {
            totalCount points { step value timestamp } } }""",
        {"id": run_id, "key": key},
    )["metricHistory"]


def same_float(a: Any, b: float) -> bool:
    """GraphQL's MetricValue and MLflow's wire both write NaN and the infinities as strings."""
    if isinstance(a, str):
        a = float(a.replace("Infinity", "inf"))
    return (math.isnan(a) and math.isnan(b)) or a == b
