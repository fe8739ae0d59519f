"""Run artifacts, streamed up and down: a file of any size never sits in memory whole."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import tempfile
import uuid
from typing import IO, Any, List, Optional, Tuple, Union
from urllib.parse import quote

from ._transport import Transport, rest_error
from .errors import ChronicleApiError, ChronicleInputError, ChronicleIntegrityError
from .types import UploadedArtifact

PathLike = Union[str, "os.PathLike[str]"]

_BLOCK = 1024 * 1024


class HashingReader:
    """A binary file that hashes what is read from it, so the upload and the hash are one pass."""

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        block = self._f.read(n)
        self.sha256.update(block)
        self.size += len(block)
        return block

    def close(self) -> None:
        self._f.close()


def artifact_url(run_id: str, path: str) -> str:
    return f"/api/v1/runs/{quote(run_id, safe='')}/artifacts/" + "/".join(quote(p, safe="") for p in path.split("/"))


def check_artifact_path(path: str) -> str:
    """Relative, ``/``-separated, no empty, ``.`` or ``..`` segments (the server's rule)."""
    if not path or path.startswith("/") or "\\" in path or any(ord(c) < 0x20 for c in path):
        raise ChronicleInputError(f"artifact path {path!r} must be relative, with / as separator and no control characters")
    if any(seg in ("", ".", "..") for seg in path.split("/")):
        raise ChronicleInputError(f"artifact path {path!r} must not contain empty, '.' or '..' segments")
    return path


def _uploaded(run_id: str, answer: Any, content_type: str) -> UploadedArtifact:
    return UploadedArtifact(
        run_id=run_id,
        path=answer["path"],
        sha256=answer["sha256"],
        size=int(answer["size"]),
        content_type=answer.get("contentType", content_type),
        created=bool(answer.get("created")),
    )


def _same_host_refused(e: ChronicleApiError) -> bool:
    """Same-host transfers off, the directory not opened, or the file not visible to the server."""
    return e.code in ("FORBIDDEN", "BAD_USER_INPUT", "FAILED_PRECONDITION")


def _import_same_host(t: Transport, run_id: str, local: str, path: str, content_type: str) -> Optional[UploadedArtifact]:
    """The server copies the file itself (same machine, a directory its operator opened); None if refused."""
    local = os.path.abspath(local)
    before = os.stat(local)
    headers = t.headers({"content-type": content_type, "content-length": "0", "x-chronicle-local-file": local}, uuid.uuid4().hex)
    answer = t.send("PUT", artifact_url(run_id, path), b"", headers, pooled=False)
    if answer.status >= 400:
        err = rest_error(answer.status, answer.body)
        if _same_host_refused(err):
            return None
        raise err
    after = os.stat(local)
    if (before.st_size, before.st_mtime_ns, before.st_ino) != (after.st_size, after.st_mtime_ns, after.st_ino) or int(answer.body["size"]) != after.st_size:
        raise ChronicleIntegrityError(f"{local} changed while the server copied it; log it again")
    return _uploaded(run_id, answer.body, content_type)


def upload_file(t: Transport, run_id: str, local_path: PathLike, artifact_path: Optional[str] = None, *, same_host: bool = True) -> UploadedArtifact:
    local = os.fspath(local_path)
    if not os.path.isfile(local):
        raise ChronicleInputError(f"{local} is not a file (use log_artifacts for a directory)")
    path = check_artifact_path(artifact_path if artifact_path is not None else os.path.basename(local))
    content_type = mimetypes.guess_type(local)[0] or "application/octet-stream"
    if same_host and t.on_this_machine:
        imported = _import_same_host(t, run_id, local, path, content_type)
        if imported is not None:
            return imported
    readers: List[HashingReader] = []

    def open_body() -> Tuple[Any, int]:
        reader = HashingReader(open(local, "rb"))
        readers.append(reader)
        return reader, os.fstat(reader._f.fileno()).st_size

    def verify(answer: Any) -> None:
        reader = readers[-1]
        sent = reader.sha256.hexdigest()
        if isinstance(answer, dict) and answer.get("sha256") != sent:
            raise ChronicleIntegrityError(
                f"{local} changed while it was uploaded: the server stored {answer.get('sha256')}, the file read as {sent}"
            )

    answer = t.upload(
        "PUT",
        artifact_url(run_id, path),
        open_body,
        content_type=content_type,
        idempotency_key=uuid.uuid4().hex,
        after=verify,
    )
    return _uploaded(run_id, answer, content_type)


def upload_dir(t: Transport, run_id: str, local_dir: PathLike, artifact_path: Optional[str] = None) -> List[UploadedArtifact]:
    root = os.fspath(local_dir)
    if not os.path.isdir(root):
        raise ChronicleInputError(f"{root} is not a directory")
    prefix = artifact_path.strip("/") if artifact_path else ""
    out: List[UploadedArtifact] = []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(dirpath, name)
            if not os.path.isfile(full):
                continue  # dangling symlink, socket, ...
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            out.append(upload_file(t, run_id, full, f"{prefix}/{rel}" if prefix else rel))
    return out


def download(t: Transport, run_id: str, artifact_path: str, dest: PathLike) -> str:
    """Streams the artifact to ``dest`` (a file path, or an existing directory to put it in),
    checking its SHA-256 on the way; the file appears only once whole and verified."""
    target = os.fspath(dest)
    if os.path.isdir(target):
        target = os.path.join(target, artifact_path.rsplit("/", 1)[-1])
    what = f"artifact {artifact_path} of run {run_id}"
    if t.on_this_machine:
        answer = t.send("GET", artifact_url(run_id, artifact_path) + "?as=local-file")
        if answer.status < 400:
            try:
                with open(answer.body["localFile"], "rb") as stored:
                    stream_to_file(iter(lambda: stored.read(_BLOCK), b""), target, answer.body["sha256"], what=what)
                return target
            except (PermissionError, FileNotFoundError):
                pass  # the server's files are not readable from here: stream them
        elif not _same_host_refused(rest_error(answer.status, answer.body)):
            raise rest_error(answer.status, answer.body)
    # Checked here as it is written, so the server need not hash it as well.
    with t.download(artifact_url(run_id, artifact_path), headers={"x-chronicle-verify": "client"}) as res:
        stream_to_file(res, target, res.headers.get("x-content-sha256", ""), what=what)
    return target


def stream_to_file(blocks: Any, target: str, expected_sha256: str, *, what: str) -> None:
    directory = os.path.dirname(os.path.abspath(target))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".chronicle-", dir=directory)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for block in blocks:
                h.update(block)
                out.write(block)
        if expected_sha256 and h.hexdigest() != expected_sha256:
            raise ChronicleIntegrityError(f"{what} hashes to {h.hexdigest()}, not {expected_sha256}: the download is corrupt")
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
