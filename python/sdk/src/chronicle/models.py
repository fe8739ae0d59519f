"""The model registry: models, versions made from run artifacts, aliases."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List, Mapping, Optional

from ._transport import Transport
from ._values import to_key_values
from .errors import ChronicleApiError
from .types import MODEL_VERSION_FIELDS, ModelVersion


class ModelsApi:
    def __init__(self, t: Transport) -> None:
        self._t = t

    def _write(self, query: str, variables: Dict[str, Any]) -> Dict[str, Any]:
        # Every write carries a fresh key, so retrying it after a lost answer writes nothing twice.
        return self._t.graphql(query, {**variables, "k": uuid.uuid4().hex}, retry=True)

    def ensure_model(self, name: str, *, description: Optional[str] = None, tags: Optional[Mapping[str, Any]] = None) -> None:
        """Registers the model unless it exists."""
        try:
            self._t.graphql("query($n: String!) { model(name: $n) { name } }", {"n": name}, retry=True)
            return
        except ChronicleApiError as e:
            if e.code != "NOT_FOUND":
                raise
        inp: Dict[str, Any] = {"name": name, "tags": to_key_values("tag", tags)}
        if description is not None:
            inp["description"] = description
        try:
            self._write("mutation($i: RegisterModelInput!, $k: String) { registerModel(input: $i, idempotencyKey: $k) { name } }", {"i": inp})
        except ChronicleApiError as e:
            if e.code != "CONFLICT":  # registered meanwhile by someone else: use it
                raise

    def create_version(
        self,
        model: str,
        run_id: str,
        artifact_path: str,
        *,
        format: Optional[str] = None,
        description: Optional[str] = None,
        signature: Optional[Mapping[str, Any]] = None,
    ) -> ModelVersion:
        inp: Dict[str, Any] = {"model": model, "runId": run_id, "artifactPath": artifact_path}
        if format is not None:
            inp["format"] = format
        if description is not None:
            inp["description"] = description
        if signature is not None:
            inp["signature"] = dict(signature)
        data = self._write(
            f"mutation($i: CreateModelVersionInput!, $k: String) {{ createModelVersion(input: $i, idempotencyKey: $k) {{ {MODEL_VERSION_FIELDS} }} }}",
            {"i": inp},
        )
        return ModelVersion.from_wire(data["createModelVersion"])

    def set_alias(self, model: str, alias: str, version: int, expected_current_version: Optional[int] = None) -> ModelVersion:
        data = self._write(
            f"""mutation($m: String!, $a: String!, $v: Int!, $e: Int, $k: String) {{
              setModelAlias(model: $m, alias: $a, version: $v, expectedCurrentVersion: $e, idempotencyKey: $k) {{ {MODEL_VERSION_FIELDS} }}
            }}""",
            {"m": model, "a": alias, "v": int(version), "e": expected_current_version},
        )
        return ModelVersion.from_wire(data["setModelAlias"])

    def remove_alias(self, model: str, alias: str, expected_current_version: Optional[int] = None) -> None:
        self._write(
            """mutation($m: String!, $a: String!, $e: Int, $k: String) {
              removeModelAlias(model: $m, alias: $a, expectedCurrentVersion: $e, idempotencyKey: $k) { name }
            }""",
            {"m": model, "a": alias, "e": expected_current_version},
        )

    def transition_stage(self, model: str, version: int, stage: str, *, archive_existing: bool = False) -> ModelVersion:
        data = self._write(
            f"""mutation($m: String!, $v: Int!, $s: ModelStage!, $x: Boolean, $k: String) {{
              transitionStage(model: $m, version: $v, stage: $s, archiveExisting: $x, idempotencyKey: $k) {{ {MODEL_VERSION_FIELDS} }}
            }}""",
            {"m": model, "v": int(version), "s": stage.upper(), "x": archive_existing},
        )
        return ModelVersion.from_wire(data["transitionStage"])

    def get_version(self, model: str, version: int) -> ModelVersion:
        data = self._t.graphql(
            f"query($m: String!, $v: Int!) {{ modelVersion(model: $m, version: $v) {{ {MODEL_VERSION_FIELDS} }} }}",
            {"m": model, "v": int(version)},
            retry=True,
        )
        v = data.get("modelVersion")
        if v is None:
            raise ChronicleApiError(f"model {model} has no version {version}", code="NOT_FOUND", status=404, details={"model": model})
        return ModelVersion.from_wire(v)

    def versions(self, model: str) -> List[ModelVersion]:
        data = self._t.graphql(
            f"query($m: String!) {{ model(name: $m) {{ versions {{ {MODEL_VERSION_FIELDS} }} }} }}", {"m": model}, retry=True
        )
        return [ModelVersion.from_wire(v) for v in data["model"]["versions"]]

    def resolve(self, ref: str) -> ModelVersion:
        """``name@alias``, ``name/Production`` or ``name/3``."""
        data = self._t.graphql(
            f"query($r: String!) {{ resolveModel(ref: $r) {{ {MODEL_VERSION_FIELDS} }} }}", {"r": ref}, retry=True
        )
        return ModelVersion.from_wire(data["resolveModel"])
