"""System metrics: sampled into `system/...` metrics of the run."""

from __future__ import annotations

import time

from chronicle.system_metrics import SystemSampler, parse_nvidia_smi

# Recorded from `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total,
# temperature.gpu,power.draw --format=csv,noheader,nounits` on a two-GPU machine.
NVIDIA_SMI = """0, 87, 30412, 81559, 64, 312.45
1, 0, 4, 81559, 31, [N/A]
"""


def test_nvidia_smi_output_is_parsed_per_gpu():
    m = parse_nvidia_smi(NVIDIA_SMI)
    assert m["system/gpu/0/utilization_percent"] == 87.0
    assert m["system/gpu/0/memory_used_mb"] == 30412.0 and m["system/gpu/0/power_w"] == 312.45
    assert m["system/gpu/1/temperature_c"] == 31.0
    assert "system/gpu/1/power_w" not in m  # [N/A] is left out, not logged as a number
    assert parse_nvidia_smi("NVIDIA-SMI has failed because it couldn't communicate with the driver") == {}


def test_sampler_reads_cpu_and_memory():
    sampler = SystemSampler(gpu=False)
    busy_until = time.monotonic() + 0.2
    while time.monotonic() < busy_until:
        pass
    m = sampler.sample()
    assert 0 < m["system/cpu_percent"] <= 100
    assert 0 < m["system/memory_percent"] < 100 and m["system/memory_used_mb"] > 0
    assert m["system/process_rss_mb"] > 1


def test_system_metrics_are_logged_to_the_run(chronicle, client):
    with client.start_run("system", system_metrics=True, system_metrics_interval=0.1) as run:
        time.sleep(0.6)
    info = client.get_run(run.id)
    assert {"system/cpu_percent", "system/memory_percent", "system/process_rss_mb"} <= set(info.metrics)
    assert info.metrics["system/memory_percent"].count >= 3
    steps = [p.step for p in client.metric_history(run.id, "system/memory_percent")]
    assert steps == list(range(len(steps)))
