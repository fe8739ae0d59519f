"""Shared fixtures: a real Chronicle server process, and its GraphQL API to check results.

The server is the built one (`apps/server/dist/main.js`, from `npm run build`), started on a
free port with a fresh data directory, once per test session.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_MAIN = REPO_ROOT / "apps" / "server" / "dist" / "main.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ChronicleServer:
    url: str
    data_dir: Path
    admin_token: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _closed: bool = field(default=False, repr=False)

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Runs a GraphQL operation as the admin and returns `data`; fails the test on errors."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(
            f"{self.url}/graphql",
            data=body,
            headers={"content-type": "application/json", "authorization": f"Bearer {self.admin_token}"},
        )
        with urllib.request.urlopen(req, timeout=30) as res:
            payload = json.loads(res.read())
        if payload.get("errors"):
            raise AssertionError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_chronicle(env: dict[str, str] | None = None) -> ChronicleServer:
    if not SERVER_MAIN.exists():
        raise RuntimeError(f"{SERVER_MAIN} is missing: run `npm run build` first")
    data_dir = Path(tempfile.mkdtemp(prefix="chronicle-pytest-"))
    port = free_port()
    log_path = data_dir / "server.log"
    log_file = open(log_path, "wb")
    process = subprocess.Popen(
        ["node", str(SERVER_MAIN)],
        env={
            **os.environ,
            "CHRONICLE_DATA_DIR": str(data_dir / "data"),
            "CHRONICLE_PORT": str(port),
            "CHRONICLE_HOST": "127.0.0.1",
            "CHRONICLE_LOG_LEVEL": "warn",
            **(env or {}),
        },
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as res:
                if res.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"server did not become healthy in 30 s:\n{log_path.read_text()}")
        time.sleep(0.05)
    token = (data_dir / "data" / "admin-token").read_text().strip()
    return ChronicleServer(url=url, data_dir=data_dir, admin_token=token, process=process, log_path=log_path)


@contextmanager
def running_chronicle() -> Iterator[ChronicleServer]:
    """A server for the length of the block; its data directory is removed afterwards."""
    server = start_chronicle()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def chronicle() -> Iterator[ChronicleServer]:
    """One real Chronicle server for the whole session."""
    with running_chronicle() as server:
        yield server


@pytest.fixture()
def start_server() -> Iterator[Callable[[dict[str, str]], ChronicleServer]]:
    """Starts servers with settings of the test's own (environment variables); all are stopped
    and their data removed afterwards."""
    started: list[ChronicleServer] = []

    def start(env: dict[str, str]) -> ChronicleServer:
        started.append(start_chronicle(env))
        return started[-1]

    yield start
    for server in started:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)


@pytest.fixture()
def chronicle_fresh() -> Iterator[ChronicleServer]:
    """A server of its own, for tests that need an empty history or kill the process."""
    with running_chronicle() as server:
        yield server
