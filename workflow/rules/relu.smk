# Study 2: "Deep Learning using Rectified Linear Units (ReLU)" (Agarap 2018):
# ReLU vs softmax as the classification layer, in the `paper` and `clean`
# protocols. One training job per (protocol, data set) trains its
# (model, head, seed) configurations.
from reproflow.relu import plan

RELU = config["relu"]
RELU_JOB = "results/relu/work/{protocol}/{dataset}/{model}-{head}/seed{seed}"
RELU_CURVES = "results/relu/plots/{protocol}/{dataset}/{model}-{head}/seed{seed}.csv"
# checkpoints of one study config never resume a job of another
RELU_HASH = config_hash(RELU)
RELU_DATA_OPTIONS = [
    "test_fraction",
    "split_seed",
    "pca_components",
    "drop_first_train",
]
RELU_TRAIN_OPTIONS = [
    "folds",
    "epochs",
    "batch_size",
    "learning_rate",
    "dropout",
    "ffnn_hidden",
    "wdbc_hidden",
    "pca_components",
    "paper_cv_seed",
    "drop_first_train",
    "clean_cv",
]

STUDY_DATASETS["relu"] = lambda: [d for d in RELU["datasets"] if d in REGISTRY]
STUDY_TARGETS["relu"] = lambda: [
    "results/relu/metrics.json",
    "results/relu/tables/comparison.html",
    "results/relu/tables/folds.csv",
    "results/relu/mlflow_published.json",
]
STUDY_RUNS["relu"] = lambda: {
    "relu_train": expand(
        f"{RELU_JOB}/run.json", zip, **plan.job_columns(RELU, config["protocols"])
    ),
    "relu_summary": ["results/relu/summary_run.json"],
}

RELU_WILDCARDS = {
    "protocol": "paper|clean",
    "dataset": "mnist|fashion-mnist|wdbc|digits",
    "model": "ffnn|cnn",
    "head": "softmax|relu",
    "seed": r"\d+",
}


rule relu_data:
    input:
        lambda wildcards: (
            dataset_files(wildcards.dataset) if wildcards.dataset in REGISTRY else []
        ),
    output:
        npz="results/relu/work/data/{protocol}/{dataset}.npz",
        meta="results/relu/work/data/{protocol}/{dataset}.json",
    log:
        "logs/relu/data/{protocol}/{dataset}.log",
    benchmark:
        "results/benchmarks/relu/data/{protocol}/{dataset}.tsv"
    wildcard_constraints:
        protocol=RELU_WILDCARDS["protocol"],
        dataset=RELU_WILDCARDS["dataset"],
    conda:
        ENV
    params:
        options={key: RELU[key] for key in RELU_DATA_OPTIONS},
    script:
        "../../scripts/relu_data.py"


# One job per (protocol, data set) trains all its (model, head, seed)
# configurations in one process: one Python + TensorFlow start-up (about 8
# CPU s) for all, the same files and numbers per configuration. A rule per
# (protocol, kind of data set), as the configurations differ by protocol (its
# seeds) and kind (the CNN needs images). Checkpoints outside the outputs: an
# incomplete job's rerun keeps them, resumes its configuration in training
# and copies back the finished ones.
for protocol in config["protocols"]:
    for kind, kind_datasets in plan.DATASET_KINDS.items():
        configs = plan.configurations(RELU, protocol, kind)
        if not configs:
            continue

        rule:
            name:
                f"relu_train_{protocol}_{kind}"
            input:
                npz=f"results/relu/work/data/{protocol}/{{dataset}}.npz",
                meta=f"results/relu/work/data/{protocol}/{{dataset}}.json",
            output:
                metrics=plan.configuration_paths(
                    f"{RELU_JOB}/metrics.json", protocol, configs
                ),
                folds=plan.configuration_paths(
                    f"{RELU_JOB}/folds.csv", protocol, configs
                ),
                confusion_csv=plan.configuration_paths(
                    f"{RELU_JOB}/confusion.csv", protocol, configs
                ),
                confusion_png=[
                    report_entry(
                        path,
                        "relu",
                        "3. Confusion matrices (Figures 2-11)",
                        "relu_confusion.rst",
                        {
                            "data": "{dataset}",
                            "model": c["model"],
                            "head": c["head"],
                            "protocol": protocol,
                            "seed": str(c["seed"]),
                        },
                    )
                    for path, c in zip(
                        plan.configuration_paths(
                            f"{RELU_JOB}/confusion.png", protocol, configs
                        ),
                        configs,
                    )
                ],
                model=plan.configuration_paths(
                    f"{RELU_JOB}/model.keras", protocol, configs
                ),
                curves=plan.configuration_paths(RELU_CURVES, protocol, configs),
                run=plan.configuration_paths(f"{RELU_JOB}/run.json", protocol, configs),
            log:
                f"logs/relu/train/{protocol}/{{dataset}}.log",
            benchmark:
                f"results/benchmarks/relu/train/{protocol}/{{dataset}}.tsv"
            wildcard_constraints:
                dataset="|".join(kind_datasets),
            conda:
                TF_ENV
            threads: RELU["threads"]
            params:
                protocol=protocol,
                configurations=configs,
                options={key: RELU[key] for key in RELU_TRAIN_OPTIONS},
                backup_dir=f"results/relu/work/checkpoints/{RELU_HASH}/{protocol}/{{dataset}}",
            script:
                "../../scripts/relu_train.py"


rule relu_summary:
    input:
        jobs=expand(
            f"{RELU_JOB}/metrics.json",
            zip,
            **plan.job_columns(RELU, config["protocols"]),
        ),
    output:
        metrics="results/relu/metrics.json",
        comparison_csv="results/relu/tables/comparison.csv",
        summary_html=report_entry(
            "results/relu/tables/summary.html",
            "relu",
            SUMMARY_SUBCATEGORY,
            "relu_summary.rst",
            {"table": "test accuracy, ours beside the paper"},
        ),
        comparison_html=report_entry(
            "results/relu/tables/comparison.html",
            "relu",
            "2. Tables",
            "relu_comparison.rst",
            {"table": "the paper's Tables 3, 4, 6, 7, 9 beside ours"},
        ),
        folds="results/relu/tables/folds.csv",
        run="results/relu/summary_run.json",
        folds_html=report_entry(
            "results/relu/tables/folds.html",
            "relu",
            "2. Tables",
            "relu_folds.rst",
            {"table": "per-fold accuracy and loss (Tables 5, 8)"},
        ),
    log:
        "logs/relu/summary.log",
    benchmark:
        "results/benchmarks/relu/summary.tsv"
    conda:
        ENV
    params:
        protocols=config["protocols"],
    script:
        "../../scripts/relu_summary.py"
