# Study 2: "Deep Learning using Rectified Linear Units (ReLU)" (Agarap 2018):
# ReLU vs softmax as the classification layer, in the `paper` and `clean`
# protocols. One training job per (data set, model, head, protocol, seed).
from reproflow.relu import paths as relu_paths
from reproflow.relu import plan as relu_plan

RELU = config["relu"]
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
    relu_paths.LAYOUT.metrics,
    f"{relu_paths.LAYOUT.tables}/comparison.html",
    f"{relu_paths.LAYOUT.tables}/folds.csv",
    relu_paths.LAYOUT.published,
]
STUDY_RUNS["relu"] = lambda: {
    "relu_train": expand(
        relu_paths.JOB_RUN, zip, **relu_plan.job_columns(RELU, config["protocols"])
    ),
    "relu_summary": [relu_paths.LAYOUT.summary_run],
}


rule relu_data:
    input:
        lambda wildcards: (
            dataset_files(wildcards.dataset) if wildcards.dataset in REGISTRY else []
        ),
    output:
        npz=relu_paths.DATA_NPZ,
        meta=relu_paths.DATA_META,
    log:
        relu_paths.LAYOUT.log(f"data/{relu_paths.DATA}"),
    benchmark:
        relu_paths.LAYOUT.benchmark(f"data/{relu_paths.DATA}")
    wildcard_constraints:
        **relu_paths.WILDCARDS,
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
        metrics=relu_paths.JOB_METRICS,
        folds=relu_paths.JOB_FOLDS,
        confusion_csv=relu_paths.JOB_CONFUSION_CSV,
        confusion_png=report_entry(
            relu_paths.JOB_CONFUSION_PNG,
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
        model=relu_paths.JOB_MODEL,
        curves=relu_paths.JOB_CURVES,
        run=relu_paths.JOB_RUN,
    log:
        relu_paths.LAYOUT.log(f"train/{relu_paths.JOB}"),
    benchmark:
        relu_paths.LAYOUT.benchmark(f"train/{relu_paths.JOB}")
    wildcard_constraints:
        **relu_paths.WILDCARDS,
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
            relu_paths.JOB_METRICS,
            zip,
            **relu_plan.job_columns(RELU, config["protocols"]),
        ),
    output:
        metrics=relu_paths.LAYOUT.metrics,
        comparison_csv=f"{relu_paths.LAYOUT.tables}/comparison.csv",
        summary_html=report_entry(
            f"{relu_paths.LAYOUT.tables}/summary.html",
            "relu",
            SUMMARY_SUBCATEGORY,
            "relu_summary.rst",
            {"table": "test accuracy, ours beside the paper"},
        ),
        comparison_html=report_entry(
            f"{relu_paths.LAYOUT.tables}/comparison.html",
            "relu",
            "2. Tables",
            "relu_comparison.rst",
            {"table": "the paper's Tables 3, 4, 6, 7, 9 beside ours"},
        ),
        folds=f"{relu_paths.LAYOUT.tables}/folds.csv",
        run=relu_paths.LAYOUT.summary_run,
        folds_html=report_entry(
            f"{relu_paths.LAYOUT.tables}/folds.html",
            "relu",
            "2. Tables",
            "relu_folds.rst",
            {"table": "per-fold accuracy and loss (Tables 5, 8)"},
        ),
    log:
        relu_paths.LAYOUT.log("summary"),
    benchmark:
        relu_paths.LAYOUT.benchmark("summary")
    conda:
        ENV
    params:
        protocols=config["protocols"],
    script:
        "../../scripts/relu_summary.py"
