# Study 2: "Deep Learning using Rectified Linear Units (ReLU)" (Agarap 2018):
# ReLU vs softmax as the classification layer, in the `paper` and `clean`
# protocols. One training job per (protocol, data set) trains its
# (model, head, seed) configurations.
from reproflow.relu import paths as relu_paths
from reproflow.relu import plan as relu_plan

RELU = config["relu"]
RELU_HASH = config_hash(RELU)
RELU_JOBS = relu_plan.job_columns(RELU, config["protocols"])  # for expand(..., zip)

STUDY_DATASETS["relu"] = lambda: [d for d in RELU["datasets"] if d in REGISTRY]
STUDY_TARGETS["relu"] = lambda: [
    relu_paths.LAYOUT.metrics,
    f"{relu_paths.LAYOUT.tables}/comparison.html",
    f"{relu_paths.LAYOUT.tables}/folds.csv",
    relu_paths.LAYOUT.published,
]
STUDY_RUNS["relu"] = lambda: {
    "relu_train": expand(relu_paths.JOB_RUN, zip, **RELU_JOBS),
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
        options={key: RELU[key] for key in relu_plan.DATA_OPTIONS},
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
    for kind, kind_datasets in relu_plan.DATASET_KINDS.items():
        configs = relu_plan.configurations(RELU, protocol, kind)
        if not configs:
            continue
        relu_outputs = relu_plan.configuration_outputs(protocol, configs)
        relu_outputs["confusion_png"] = [
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
            for path, c in zip(relu_outputs["confusion_png"], configs)
        ]

        rule:
            name:
                f"relu_train_{protocol}_{kind}"
            input:
                npz=fill(relu_paths.DATA_NPZ, protocol=protocol),
                meta=fill(relu_paths.DATA_META, protocol=protocol),
            output:
                **relu_outputs,
            log:
                relu_paths.LAYOUT.log(f"train/{protocol}/{{dataset}}"),
            benchmark:
                relu_paths.LAYOUT.benchmark(f"train/{protocol}/{{dataset}}")
            wildcard_constraints:
                dataset="|".join(kind_datasets),
            conda:
                TF_ENV
            threads: RELU["threads"]
            params:
                protocol=protocol,
                configurations=configs,
                options={key: RELU[key] for key in relu_plan.TRAIN_OPTIONS},
                backup_dir=fill(
                    relu_paths.CHECKPOINT, config_hash=RELU_HASH, protocol=protocol
                ),
            script:
                "../../scripts/relu_train.py"


rule relu_summary:
    input:
        jobs=expand(relu_paths.JOB_METRICS, zip, **RELU_JOBS),
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
