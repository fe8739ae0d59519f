"""A training process that ends without ending its run: the points it logged are there anyway."""

from __future__ import annotations

import signal
import time

import pytest

from sdk_helpers import LossyProxy, history, run_script, run_status, spawn_script

# Logs 500 points with a flush interval far longer than the script, so nothing but the exit
# path can have sent them.
PRELUDE = """
import os, sys, time, chronicle
chronicle.init(flush_interval=3600, sender=os.environ.get("SENDER") or None)
run = chronicle.start_run("exit-path")
print(run.id, flush=True)
for step in range(250):
    run.log({"loss": 1.0 / (step + 1), "acc": step / 250}, step=step)
"""


@pytest.mark.parametrize("sender", ["process", "thread"])
def test_uncaught_exception_flushes_and_fails_the_run(chronicle, sender):
    res = run_script(chronicle, PRELUDE + "raise RuntimeError('diverged')\n", env={"SENDER": sender})
    assert res.returncode == 1 and "RuntimeError: diverged" in res.stderr  # the traceback still shows
    run_id = res.stdout.split()[0]
    assert run_status(chronicle, run_id) == "FAILED"
    assert len(history(chronicle, run_id, "loss")) == 250 and len(history(chronicle, run_id, "acc")) == 250


def test_normal_exit_without_finish_flushes_and_finishes(chronicle):
    res = run_script(chronicle, PRELUDE)
    assert res.returncode == 0, res.stderr
    run_id = res.stdout.split()[0]
    assert run_status(chronicle, run_id) == "FINISHED"
    assert len(history(chronicle, run_id, "loss")) == 250


def test_sigterm_flushes_kills_the_run_and_still_dies_by_the_signal(chronicle):
    proc = spawn_script(chronicle, PRELUDE + "print('ready', flush=True)\ntime.sleep(60)\n")
    assert proc.stdout is not None
    run_id = proc.stdout.readline().split()[0]
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == -signal.SIGTERM
    assert run_status(chronicle, run_id) == "KILLED"
    assert len(history(chronicle, run_id, "loss")) == 250


def test_sigkill_loses_no_point_the_sender_process_already_had(chronicle):
    # SIGKILL runs no handler at all. Through a slow link (each request answered after 0.4 s)
    # the 5 batches are still on their way when the training process dies; the sender process
    # it had handed them to keeps sending.
    with LossyProxy(chronicle.url, lambda m, p: False, drop=0, delay=0.4) as proxy:
        code = PRELUDE.replace("flush_interval=3600", "flush_interval=0.05, max_batch_points=100") + """
b = run._buffer
while b.taken < b.appended:  # every batch cut and handed to the sender process
    time.sleep(0.01)
time.sleep(0.1)
print("ready", b.acked, flush=True)
time.sleep(60)
"""
        proc = spawn_script(chronicle, code, env={"CHRONICLE_URL": proxy.url})
        assert proc.stdout is not None
        run_id = proc.stdout.readline().split()[0]
        ready = proc.stdout.readline().split()
        assert ready[0] == "ready" and int(ready[1]) < 500  # not all sent yet
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 30
        while len(history(chronicle, run_id, "loss")) < 250 and time.monotonic() < deadline:
            time.sleep(0.2)
    assert len(history(chronicle, run_id, "loss")) == 250 and len(history(chronicle, run_id, "acc")) == 250
    assert run_status(chronicle, run_id) == "RUNNING"  # nobody could say how it ended


def test_module_log_without_a_run_says_so(chronicle):
    res = run_script(chronicle, "import chronicle\nchronicle.log({'x': 1.0})\n")
    assert res.returncode == 1 and "ChronicleConfigError: no active run" in res.stderr
