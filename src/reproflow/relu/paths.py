"""Where Study 2's jobs write: templates with Snakemake wildcards in braces,
for workflow/rules/relu.smk, the plan, DVC's stage (dvc.yaml) and the tests."""

from __future__ import annotations

from reproflow import paths

LAYOUT = paths.Study("relu")  # its folders, summary files, logs and benchmarks
WORK = LAYOUT.work
# what DVC's stage `relu` keeps (tests/test_dvc.py compares dvc.yaml with it)
TRACKED = {"outs": (WORK, LAYOUT.tables), "metrics": (LAYOUT.metrics,), "plots": (LAYOUT.plots,)}

# every wildcard of the study's rules, and the values it takes
WILDCARDS = {
    "protocol": "paper|clean",
    "dataset": "mnist|fashion-mnist|wdbc|digits",
    "model": "ffnn|cnn",
    "head": "softmax|relu",
    "seed": r"\d+",
}

# one preprocessed data set per (protocol, data set)
DATA = "{protocol}/{dataset}"
DATA_NPZ = f"{WORK}/data/{DATA}.npz"
DATA_META = f"{WORK}/data/{DATA}.json"

# one configuration (protocol, data set, model, head, seed); one training job
# trains all configurations of one (protocol, data set) in one process
JOB = "{protocol}/{dataset}/{model}-{head}/seed{seed}"
JOB_DIR = f"{WORK}/{JOB}"
# a configuration's files, by the training rule's output names (relu.jobs.TRAIN_OUTPUTS)
JOB_FILES = {
    "metrics": f"{JOB_DIR}/metrics.json", "folds": f"{JOB_DIR}/folds.csv",
    "confusion_csv": f"{JOB_DIR}/confusion.csv", "confusion_png": f"{JOB_DIR}/confusion.png",
    "model": f"{JOB_DIR}/model.keras", "curves": f"{LAYOUT.plots}/{JOB}.csv", "run": f"{JOB_DIR}/run.json",
}
JOB_METRICS, JOB_RUN = JOB_FILES["metrics"], JOB_FILES["run"]

# a training job's epoch checkpoints and finished configurations (no Snakemake
# output: an incomplete job's rerun keeps them); per config hash, so that one
# study config never resumes a job of another
CHECKPOINT = WORK + "/checkpoints/{config_hash}/" + DATA
