"""What a job prints: a quiet terminal, a complete log, every line naming its job."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from reproflow import progress, runtime

# the start-up lines TensorFlow 2.20 writes to stderr on a machine without a GPU (as seen in a run)
TF_STARTUP = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1796159589.629042    9408 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders.",
    "I0000 00:00:1796159589.638343    9408 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
    "GPU will not be used.",
    "E0000 00:00:1796159625.917701   12380 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
    "Failed call to cuInit: UNKNOWN ERROR (303)",
]

JOB = """
import logging, os, sys
from reproflow.errors import ReproflowError
from reproflow.runtime import headline, run_logged

def main():
    for line in {startup!r}:
        os.write(2, (line + "\\n").encode())      # as TensorFlow's C++ code writes them
    os.write(2, b"a real C++ error line\\n")
    logging.getLogger("reproflow.relu.train").info("fold 1 epoch 1: accuracy=0.5")
    logging.getLogger("tensorflow").warning("5 out of the last 5 calls triggered tf.function retracing.")
    logging.getLogger("reproflow").warning("a warning a user must act on")
    {ending}

run_logged(main, {log!r})
"""


def run_job(tmp_path, ending: str) -> tuple[subprocess.CompletedProcess, str]:
    log = tmp_path / "logs" / "relu" / "train" / "paper" / "wdbc" / "ffnn-relu" / "seed0.log"
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(JOB.format(startup=TF_STARTUP, ending=ending, log=str(log))))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    return done, log.read_text()


@pytest.mark.skipif(runtime.has_gpu(), reason="on a machine with a GPU every CUDA line is kept")
def test_terminal_gets_warnings_and_the_headline_the_log_everything(tmp_path):
    done, log = run_job(tmp_path, 'headline("test accuracy %.4f", 0.9182)')
    assert done.returncode == 0, done.stderr
    for line in TF_STARTUP:
        assert line not in done.stderr
    assert "a real C++ error line" in done.stderr
    assert "relu/train/paper/wdbc/ffnn-relu/seed0: test accuracy 0.9182" in done.stderr.splitlines()
    assert "WARNING relu/train/paper/wdbc/ffnn-relu/seed0 (reproflow): a warning a user must act on" in done.stderr
    assert "epoch" not in done.stderr and "retracing" not in done.stderr
    assert "[relu/train/paper/wdbc/ffnn-relu/seed0] reproflow.relu.train: fold 1 epoch 1" in log
    assert "test accuracy 0.9182" in log and "retracing" not in log and "cuInit" not in log


def test_a_job_without_a_headline_says_it_is_done_and_an_error_is_one_line(tmp_path):
    done, _ = run_job(tmp_path, "")
    assert done.returncode == 0
    assert any(line.startswith("relu/train/paper/wdbc/ffnn-relu/seed0: done in ") for line in done.stderr.splitlines())
    failed, log = run_job(tmp_path, 'raise ReproflowError("data.npz: expected 30 features, found 29")')
    assert failed.returncode == 1
    assert "error: data.npz: expected 30 features, found 29" in failed.stderr
    assert "Traceback" not in failed.stderr and "done in" not in failed.stderr
    assert "ERROR [relu/train/paper/wdbc/ffnn-relu/seed0] reproflow: data.npz" in log


def test_progress_keeps_progress_results_and_errors_only():
    lines = [
        "Select jobs to execute...", "Execute 1 jobs...", "", "[Tue Dec  1 21:25:39 2026]",
        "Finished jobid: 44 (Rule: nmr_simulate)", "1 of 48 steps (2%) done",
        "relu/train/paper/wdbc/ffnn-relu/seed0: test accuracy 0.9182", "", "",
        "Error in rule relu_train:", "    jobid: 12",
    ]
    assert list(progress.condensed(lines)) == [
        "", "1 of 48 steps (2%) done", "relu/train/paper/wdbc/ffnn-relu/seed0: test accuracy 0.9182", "",
        "Error in rule relu_train:", "    jobid: 12",
    ]


def test_job_name_from_the_log_path():
    assert runtime.job_name("logs/nmr/train_sigma_ist_echo.log") == "nmr/train_sigma_ist_echo"
    assert runtime.job_name("elsewhere/x.log") == "elsewhere/x"


# what each kind of job must not load at start-up: TensorFlow only where a network
# is trained or run, matplotlib only where a figure is drawn, scikit-learn only
# where something is fitted or scored (docs/benchmarks.md, "Default run: start-up cost per job")
LEAN_JOBS = {
    "reproflow.ids.jobs": ("tensorflow", "keras", "matplotlib", "sklearn", "pandas"),
    "reproflow.ids.synth": ("tensorflow", "keras", "matplotlib", "sklearn", "pandas"),
    "reproflow.ids.baselines": ("tensorflow", "keras", "matplotlib"),
    "reproflow.relu.data": ("tensorflow", "keras", "matplotlib"),
    "reproflow.relu.jobs": ("tensorflow", "keras", "matplotlib", "sklearn"),
    "reproflow.nmr.jobs": ("tensorflow", "keras", "matplotlib", "nmrglue"),
    "reproflow.data": ("tensorflow", "keras", "matplotlib", "sklearn", "pandas", "scipy"),
}


@pytest.mark.parametrize("module", sorted(LEAN_JOBS))
def test_a_job_module_imports_only_what_its_jobs_use(module):
    code = f"import sys, {module}; print(' '.join(m for m in {LEAN_JOBS[module]!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [], f"importing {module} loads {done.stdout.split()}"
