"""Where Study 1's jobs write: templates with Snakemake wildcards in braces,
for workflow/rules/ids.smk, the plan, DVC's stage (dvc.yaml) and the tests."""

from __future__ import annotations

from reproflow import paths

LAYOUT = paths.Study("ids")  # its folders, summary files, logs and benchmarks
WORK = LAYOUT.work
# what DVC's stage `ids` keeps (tests/test_dvc.py compares dvc.yaml with it)
TRACKED = {"outs": (WORK, LAYOUT.tables), "metrics": (LAYOUT.metrics,), "plots": (LAYOUT.plots,)}

# every wildcard of the study's rules, and the values it takes
WILDCARDS = {
    "day": r"\d{8}",
    "protocol": "paper|clean",
    "features": "all|no_detection",
    "arm": "gru_svm|gru_softmax",
    "seed": r"\d+",
    "lr": r"[0-9.e+-]+",
}

# synthetic days (ids.source: synthetic), in the Kyoto 2013 daily format
SYNTH = f"{WORK}/synth"
SYNTH_DAY = SYNTH + "/{day}.txt"
SYNTH_NOTE = f"{SYNTH}/SYNTHETIC.md"

# one day parsed: its columns, partial statistics and rejected lines
PARSED = WORK + "/days/{day}"
PARSED_COLUMNS = f"{PARSED}/columns.npz"
PARSED_STATS = f"{PARSED}/stats.npz"
PARSED_REJECTS = f"{PARSED}/rejects.tsv"
PARSED_INFO = f"{PARSED}/parse.json"

# per protocol: the fitted transform, each day transformed, the data sets per feature set
FITTED = WORK + "/{protocol}/transform.json"
BINNED = WORK + "/{protocol}/days/{day}.npz"
BINNED_INFO = WORK + "/{protocol}/days/{day}.json"
DATASET = WORK + "/{protocol}/{features}/data.npz"
DATASET_INFO = WORK + "/{protocol}/{features}/data.json"

# the clean protocol's learning-rate search: one configuration per (feature set, arm,
# learning rate); one job per feature set trains them all
SEARCH = "clean/{features}/search/{arm}/lr{lr}"
SEARCH_METRICS = f"{WORK}/{SEARCH}/metrics.json"
SEARCH_HISTORY = f"{WORK}/{SEARCH}/history.csv"
SEARCH_RUN = f"{WORK}/{SEARCH}/run.json"

# the models tested: one configuration per (protocol, feature set, arm, seed);
# one job trains both arms of a (protocol, feature set, seed), TRAIN_JOB_LOG its log's name
TRAIN_JOB_LOG = "train/{protocol}/{features}/seed{seed}"
TRAIN = "{protocol}/{features}/{arm}/seed{seed}"
TRAIN_DIR = f"{WORK}/{TRAIN}"
TRAIN_MODEL = f"{TRAIN_DIR}/model"
TRAIN_METRICS = f"{TRAIN_DIR}/metrics.json"
TRAIN_HISTORY = f"{TRAIN_DIR}/history.csv"
TRAIN_RUN = f"{TRAIN_DIR}/run.json"

# a training job's checkpoints while it runs, per study config (its hash):
# those of one config never resume a job of another
CHECKPOINTS = WORK + "/checkpoints/{config_hash}"
SEARCH_CHECKPOINT = f"{CHECKPOINTS}/{SEARCH}"
TRAIN_CHECKPOINT = f"{CHECKPOINTS}/{TRAIN}"

# the clean protocol's baselines, per feature set
BASELINES = WORK + "/clean/{features}/baselines.json"
BASELINES_RUN = WORK + "/clean/{features}/baselines_run.json"

