"""What the API returns, as plain frozen dataclasses (metric values already decoded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ._values import decode_value

RUN_FIELDS = """fragment RunFields on Run {
  id experimentId name status lifecycle startTime endTime parentRunId userId environment
  source { gitCommit gitRepo source entryPoint }
  params { key value }
  tags { key value }
  metrics { key value step timestamp count }
  inputs { datasetName versionId versionNumber role }
  artifacts { path size sha256 contentType }
}"""

MODEL_VERSION_FIELDS = "model version runId artifactPath sha256 size format description stage deleted aliases createdAt createdBy"

DATASET_VERSION_FIELDS = (
    "dataset version versionId parentVersion manifestSha256 fileCount totalBytes message author tags deprecated createdAt"
)


def _pairs(items: Optional[List[Mapping[str, Any]]]) -> Dict[str, str]:
    return {kv["key"]: kv["value"] for kv in items or []}


@dataclass(frozen=True)
class LatestMetric:
    key: str
    value: float
    step: int
    timestamp: int
    count: int


@dataclass(frozen=True)
class RunInput:
    dataset: str
    version: int
    version_id: str
    role: str


@dataclass(frozen=True)
class ArtifactInfo:
    path: str
    size: int
    sha256: str
    content_type: str


@dataclass(frozen=True)
class RunInfo:
    """A run as the server knows it now."""

    id: str
    experiment_id: str
    name: str
    status: str
    lifecycle: str
    start_time: int
    end_time: Optional[int]
    parent_run_id: Optional[str]
    user_id: str
    source: Dict[str, Optional[str]]
    environment: Dict[str, Any]
    params: Dict[str, str]
    tags: Dict[str, str]
    metrics: Dict[str, LatestMetric]
    inputs: Tuple[RunInput, ...] = ()
    artifacts: Tuple[ArtifactInfo, ...] = ()

    @classmethod
    def from_wire(cls, r: Mapping[str, Any]) -> "RunInfo":
        return cls(
            id=r["id"],
            experiment_id=r["experimentId"],
            name=r["name"],
            status=r["status"],
            lifecycle=r["lifecycle"],
            start_time=int(r["startTime"]),
            end_time=None if r.get("endTime") is None else int(r["endTime"]),
            parent_run_id=r.get("parentRunId"),
            user_id=r["userId"],
            source=dict(r.get("source") or {}),
            environment=dict(r.get("environment") or {}),
            params=_pairs(r.get("params")),
            tags=_pairs(r.get("tags")),
            metrics={
                m["key"]: LatestMetric(m["key"], decode_value(m["value"]), int(m["step"]), int(m["timestamp"]), int(m["count"]))
                for m in r.get("metrics") or []
            },
            inputs=tuple(
                RunInput(i["datasetName"], int(i["versionNumber"]), i["versionId"], i["role"]) for i in r.get("inputs") or []
            ),
            artifacts=tuple(
                ArtifactInfo(a["path"], int(a["size"]), a["sha256"], a["contentType"]) for a in r.get("artifacts") or []
            ),
        )


@dataclass(frozen=True)
class MetricPoint:
    step: int
    value: float
    timestamp: int


@dataclass(frozen=True)
class Experiment:
    id: str
    name: str
    description: str = ""
    lifecycle: str = "ACTIVE"


@dataclass(frozen=True)
class DatasetVersion:
    """One committed version of a dataset; ``changed`` is False when the content equalled the head."""

    dataset: str
    version: int
    version_id: str
    manifest_sha256: str = ""
    file_count: int = 0
    total_bytes: int = 0
    message: str = ""
    tags: Tuple[str, ...] = ()
    parent_version: Optional[int] = None
    changed: bool = True
    uploaded_files: int = 0
    uploaded_bytes: int = 0

    @property
    def ref(self) -> str:
        """``<dataset>@<version>``."""
        return f"{self.dataset}@{self.version}"

    @classmethod
    def from_wire(cls, v: Mapping[str, Any], **extra: Any) -> "DatasetVersion":
        return cls(
            dataset=v["dataset"],
            version=int(v["version"]),
            version_id=v["versionId"],
            manifest_sha256=v.get("manifestSha256", ""),
            file_count=int(v.get("fileCount") or 0),
            total_bytes=int(v.get("totalBytes") or 0),
            message=v.get("message") or "",
            tags=tuple(v.get("tags") or ()),
            parent_version=v.get("parentVersion"),
            **extra,
        )


@dataclass(frozen=True)
class ModelVersion:
    model: str
    version: int
    run_id: str
    artifact_path: str
    sha256: str
    size: int
    stage: str
    aliases: Tuple[str, ...] = ()
    format: Optional[str] = None
    description: str = ""
    deleted: bool = False
    created_at: int = 0
    created_by: str = ""

    @classmethod
    def from_wire(cls, v: Mapping[str, Any]) -> "ModelVersion":
        return cls(
            model=v["model"],
            version=int(v["version"]),
            run_id=v["runId"],
            artifact_path=v["artifactPath"],
            sha256=v["sha256"],
            size=int(v["size"]),
            stage=v["stage"],
            aliases=tuple(v.get("aliases") or ()),
            format=v.get("format"),
            description=v.get("description") or "",
            deleted=bool(v.get("deleted")),
            created_at=int(v.get("createdAt") or 0),
            created_by=v.get("createdBy") or "",
        )


@dataclass(frozen=True)
class UploadedArtifact:
    run_id: str
    path: str
    sha256: str
    size: int
    content_type: str
    #: False when the run already had this exact content under this path.
    created: bool


@dataclass(frozen=True)
class RunStats:
    """What the run's metric buffer has done so far."""

    logged_points: int
    sent_points: int
    pending_points: int
    refused_points: int
    batches_sent: int
    extra: Dict[str, Any] = field(default_factory=dict)
