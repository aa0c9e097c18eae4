# Study 2: "Deep Learning using Rectified Linear Units (ReLU)" (Agarap 2018):
# ReLU vs softmax as the classification layer, in the `paper` and `clean`
# protocols. One training job per (data set, model, head, protocol, seed).
from reproflow.relu import plan

RELU = config["relu"]
RELU_JOB = "results/relu/work/{protocol}/{dataset}/{model}-{head}/seed{seed}"
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


rule relu_train:
    input:
        npz=rules.relu_data.output.npz,
        meta=rules.relu_data.output.meta,
    output:
        metrics=f"{RELU_JOB}/metrics.json",
        folds=f"{RELU_JOB}/folds.csv",
        confusion_csv=f"{RELU_JOB}/confusion.csv",
        confusion_png=report_entry(
            f"{RELU_JOB}/confusion.png",
            "relu",
            "3. Confusion matrices (Figures 2-11)",
            "relu_confusion.rst",
            {
                "data": "{dataset}",
                "model": "{model}",
                "head": "{head}",
                "protocol": "{protocol}",
                "seed": "{seed}",
            },
        ),
        model=f"{RELU_JOB}/model.keras",
        curves="results/relu/plots/{protocol}/{dataset}/{model}-{head}/seed{seed}.csv",
        run=f"{RELU_JOB}/run.json",
    log:
        "logs/relu/train/{protocol}/{dataset}/{model}-{head}/seed{seed}.log",
    benchmark:
        "results/benchmarks/relu/train/{protocol}/{dataset}/{model}-{head}/seed{seed}.tsv"
    wildcard_constraints:
        **RELU_WILDCARDS,
    conda:
        TF_ENV
    threads: RELU["threads"]
    params:
        options={key: RELU[key] for key in RELU_TRAIN_OPTIONS},
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
