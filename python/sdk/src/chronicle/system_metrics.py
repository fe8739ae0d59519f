"""System metrics (CPU, memory, GPU) sampled on an interval into ``system/...`` metrics.

psutil is used when installed (``pip install chronicle[system]``); without it the numbers come
from ``/proc`` (Linux). GPUs are read through ``nvidia-smi`` when it is on the PATH.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

if TYPE_CHECKING:
    from .run import Run

log = logging.getLogger("chronicle")

try:  # optional: only a faster, portable source of the same numbers
    import psutil as _psutil  # type: ignore[import-untyped,unused-ignore]
except ImportError:  # pragma: no cover - depends on the environment
    _psutil = None

_GPU_FIELDS = ("index", "utilization.gpu", "memory.used", "memory.total", "temperature.gpu", "power.draw")
_GPU_NAMES = ("utilization_percent", "memory_used_mb", "memory_total_mb", "temperature_c", "power_w")


def parse_nvidia_smi(text: str) -> Dict[str, float]:
    """Parses ``nvidia-smi --query-gpu=<_GPU_FIELDS> --format=csv,noheader,nounits`` output.

    Fields a GPU does not report (``[N/A]``, ``[Not Supported]``) are left out.
    """
    out: Dict[str, float] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split(",")]
        if len(cells) != len(_GPU_FIELDS) or not cells[0].isdigit():
            continue
        gpu = cells[0]
        for name, cell in zip(_GPU_NAMES, cells[1:]):
            try:
                out[f"system/gpu/{gpu}/{name}"] = float(cell)
            except ValueError:
                continue
    return out


def _read_proc_stat() -> Optional[Tuple[int, int]]:
    """(busy, total) jiffies over all CPUs since boot."""
    try:
        with open("/proc/stat", "rb") as f:
            first = f.readline().split()
    except OSError:
        return None
    if not first or first[0] != b"cpu":
        return None
    ticks = [int(x) for x in first[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    total = sum(ticks[:8])  # guest time is already counted in user
    return total - idle, total


def _read_meminfo() -> Dict[str, int]:
    out: Dict[str, int] = {}
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                name, _, rest = line.partition(b":")
                parts = rest.split()
                if parts:
                    out[name.decode()] = int(parts[0]) * 1024
    except OSError:
        pass
    return out


def _read_rss() -> Optional[int]:
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class SystemSampler:
    """Reads the machine's numbers; each ``sample()`` gives CPU use since the previous one."""

    def __init__(self, *, gpu: Optional[bool] = None) -> None:
        self._prev_cpu = _read_proc_stat() if _psutil is None else None
        if _psutil is not None:
            _psutil.cpu_percent(interval=None)  # primes the counter: the next call measures from here
            self._process = _psutil.Process()
        self._nvidia_smi = shutil.which("nvidia-smi") if gpu is not False else None

    @property
    def source(self) -> str:
        return "psutil" if _psutil is not None else "/proc"

    def sample(self) -> Dict[str, float]:
        m: Dict[str, float] = {}
        if _psutil is not None:
            m["system/cpu_percent"] = float(_psutil.cpu_percent(interval=None))
            vm = _psutil.virtual_memory()
            m["system/memory_percent"] = float(vm.percent)
            m["system/memory_used_mb"] = (vm.total - vm.available) / 2**20
            m["system/process_rss_mb"] = self._process.memory_info().rss / 2**20
        else:
            now = _read_proc_stat()
            if now is not None and self._prev_cpu is not None and now[1] > self._prev_cpu[1]:
                busy = now[0] - self._prev_cpu[0]
                m["system/cpu_percent"] = round(100.0 * busy / (now[1] - self._prev_cpu[1]), 2)
            self._prev_cpu = now
            mem = _read_meminfo()
            total, available = mem.get("MemTotal"), mem.get("MemAvailable")
            if total and available is not None:
                m["system/memory_percent"] = round(100.0 * (total - available) / total, 2)
                m["system/memory_used_mb"] = (total - available) / 2**20
            rss = _read_rss()
            if rss is not None:
                m["system/process_rss_mb"] = rss / 2**20
        if self._nvidia_smi:
            m.update(self._gpu())
        return m

    def _gpu(self) -> Dict[str, float]:
        try:
            res = subprocess.run(
                [self._nvidia_smi or "nvidia-smi", f"--query-gpu={','.join(_GPU_FIELDS)}", "--format=csv,noheader,nounits"],
                capture_output=True,
                text=True,
                timeout=5,
            )
        except (OSError, subprocess.SubprocessError):
            self._nvidia_smi = None  # broken driver: stop asking every interval
            return {}
        return parse_nvidia_smi(res.stdout) if res.returncode == 0 else {}


class SystemMetricsThread:
    """Logs a sample every ``interval`` seconds to the run, with the sample number as step."""

    def __init__(self, run: "Run", interval: float = 10.0, *, gpu: Optional[bool] = None) -> None:
        self._run = run
        self.interval = max(0.1, float(interval))
        self._sampler = SystemSampler(gpu=gpu)
        self._stop = threading.Event()
        self._step = 0
        self._thread = threading.Thread(target=self._loop, name=f"chronicle-system-{run.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                metrics = self._sampler.sample()
                if metrics:
                    self._run.log(metrics, step=self._step)
                    self._step += 1
            except Exception as e:  # the run ended, or /proc vanished: sampling is best effort
                if self._stop.is_set():
                    return
                log.debug("chronicle: system metrics sample failed: %s", e)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread() and self._thread.ident is not None:
            self._thread.join(timeout=5)


__all__: List[str] = ["SystemSampler", "SystemMetricsThread", "parse_nvidia_smi"]
