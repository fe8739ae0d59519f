"""Where a run's code came from (git) and what it ran on (Python, platform).

Recorded at run start: the commit, remote and entry point as the run's ``source``; the branch,
whether the tree was dirty (and the diff, if small) plus interpreter and platform as its
``environment``. Every probe is best effort: no git, no repository, or a slow one just leaves
the fields out.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from typing import Any, Dict, Optional, Tuple

#: A dirty diff up to this size is kept with the run; larger ones only say how large they were.
MAX_DIFF_BYTES = 16 * 1024
_GIT_TIMEOUT = 5.0


def _git(cwd: str, *args: str) -> Optional[str]:
    try:
        res = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            # Never prompt for credentials or open a pager from a training script.
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if res.returncode != 0:
        return None
    return res.stdout.decode("utf-8", "replace")


def _strip_credentials(url: str) -> str:
    # https://user:token@host/repo.git must not end up in the run's history.
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url


def git_info(path: Optional[str] = None) -> Dict[str, Any]:
    """``{commit, branch, repo, dirty, diff?, diffBytes?, root}`` for the repository holding
    ``path`` (default: the entry script's directory, else the working directory); ``{}`` outside one."""
    cwd = path or entry_directory()
    if not os.path.isdir(cwd):
        cwd = os.path.dirname(cwd) or "."
    root = _git(cwd, "rev-parse", "--show-toplevel")
    if root is None:
        return {}
    info: Dict[str, Any] = {"root": root.strip()}
    commit = _git(cwd, "rev-parse", "HEAD")
    if commit:
        info["commit"] = commit.strip()
    branch = _git(cwd, "rev-parse", "--abbrev-ref", "HEAD")
    if branch and branch.strip() != "HEAD":
        info["branch"] = branch.strip()
    remote = _git(cwd, "config", "--get", "remote.origin.url")
    if remote and remote.strip():
        info["repo"] = _strip_credentials(remote.strip())
    status = _git(cwd, "status", "--porcelain", "--untracked-files=no")
    if status is not None:
        info["dirty"] = bool(status.strip())
        if info["dirty"] and commit:
            diff = _git(cwd, "diff", "HEAD", "--no-color", "--no-ext-diff")
            if diff is not None:
                size = len(diff.encode("utf-8"))
                info["diffBytes"] = size
                if size <= MAX_DIFF_BYTES:
                    info["diff"] = diff
    return info


def entry_point() -> Optional[str]:
    """The script or module the process was started with, as given on the command line."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and getattr(spec, "name", None) and spec.name != "__main__":
        return f"-m {spec.name}"
    argv0 = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c") else None
    return argv0


def entry_directory() -> str:
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 and argv0 not in ("-c", "-m") and os.path.exists(argv0):
        return os.path.dirname(os.path.abspath(argv0))
    return os.getcwd()


def collect(capture_git: bool = True) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The run's ``source`` and ``environment`` as the startRun mutation takes them."""
    git = git_info() if capture_git else {}
    source: Dict[str, Any] = {}
    if git.get("commit"):
        source["gitCommit"] = git["commit"]
    if git.get("repo"):
        source["gitRepo"] = git["repo"]
    entry = entry_point()
    if entry:
        source["entryPoint"] = entry
        argv0 = sys.argv[0] if sys.argv else ""
        if argv0 and os.path.exists(argv0):
            absolute = os.path.abspath(argv0)
            root = git.get("root")
            # Relative to the repository: the same code reads the same on every machine.
            source["source"] = os.path.relpath(absolute, root) if root and absolute.startswith(root + os.sep) else absolute
    from . import __version__

    environment: Dict[str, Any] = {
        "python": platform.python_version(),
        "pythonImplementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "hostname": socket.gethostname(),
        "cpuCount": os.cpu_count() or 1,
        "sdk": f"chronicle-python {__version__}",
    }
    if git:
        environment["git"] = {k: v for k, v in git.items() if k not in ("root", "repo", "commit")}
    return source, environment
