# Study 3: MR-Ai NMR echo / anti-echo reconstruction, uncertainty and pSQ.
# Logic in reproflow.nmr; scripts/nmr_*.py are adapters. Training rules are
# named nmr_train_* so the cluster profile can give them a GPU.

from reproflow.nmr import plan as nmr_plan

NMR = config["nmr"]
NMR_EVAL_SETS = ["test"] + (["malt1"] if NMR["malt1"] else [])
NMR_ARCHS = NMR["network"]["architectures"]
NMR_PRIMARY = NMR_ARCHS[0]
NMR_STAGES = list(range(NMR["network"]["stages"]))
NMR_SIGMA = NMR["uncertainty"]["methods"]
# the sigma networks' train and val sets: their own, of varied quality, when
# uncertainty.vary is set, else the cascade's
NMR_SIGMA_SETS = [nmr_plan.sigma_sets(NMR)[role] for role in ("train", "val")]


wildcard_constraints:
    nmr_set="train|val|test|sigma_train|sigma_val|malt1",
    split="train|val|test|sigma_train|sigma_val",
    arch="|".join(NMR_ARCHS),
    stage=r"\d+",
    method="network_echo|ist_echo|ist_nus",


NMR_MODEL = "results/nmr/work/models/{arch}/stage{k}.keras"


rule nmr_simulate:
    output:
        "results/nmr/work/data/{split}.npz",
    log:
        "logs/nmr/simulate_{split}.log",
    benchmark:
        "results/benchmarks/nmr/simulate_{split}.tsv"
    conda:
        TF_ENV
    params:
        recipe=lambda w: nmr_plan.split_recipe(w.split, NMR),
    script:
        "../../scripts/nmr_simulate.py"


rule nmr_malt1:
    input:
        spectrum="resources/malt1/Malt.ft2",
    output:
        "results/nmr/work/data/malt1.npz",
    log:
        "logs/nmr/malt1.log",
    benchmark:
        "results/benchmarks/nmr/malt1.tsv"
    conda:
        TF_ENV
    params:
        nus_fraction=NMR["nus_fraction"],
        seed=NMR["seed"],
    script:
        "../../scripts/nmr_malt1.py"


rule nmr_ist:
    input:
        data="results/nmr/work/data/{nmr_set}.npz",
    output:
        ist="results/nmr/work/ist/{nmr_set}.npz",
        run="results/nmr/work/ist/{nmr_set}_run.json",
    log:
        "logs/nmr/ist_{nmr_set}.log",
    benchmark:
        "results/benchmarks/nmr/ist_{nmr_set}.tsv"
    conda:
        ENV
    params:
        iterations=NMR["ist"]["iterations"],
    script:
        "../../scripts/nmr_ist.py"


# every stage of one architecture in one job (one TensorFlow start-up,
# reproflow.nmr.jobs.train_stages_job); each stage keeps its own files,
# run manifest and backup
rule nmr_train_stage:
    input:
        train="results/nmr/work/data/train.npz",
        val="results/nmr/work/data/val.npz",
    output:
        model=expand("results/nmr/work/models/{{arch}}/stage{k}.keras", k=NMR_STAGES),
        curves=expand("results/nmr/plots/train_{{arch}}_stage{k}.csv", k=NMR_STAGES),
        run=expand("results/nmr/work/models/{{arch}}/stage{k}_run.json", k=NMR_STAGES),
    log:
        "logs/nmr/train_{arch}.log",
    benchmark:
        "results/benchmarks/nmr/train_{arch}.tsv"
    conda:
        TF_ENV
    threads: NMR["threads"]
    params:
        options=nmr_plan.training_options(NMR["network"]),
        seed=NMR["seed"],
        backup=lambda w: [
            f"results/nmr/work/backup/{w.arch}/stage{k}" for k in NMR_STAGES
        ],
    script:
        "../../scripts/nmr_train_stage.py"


rule nmr_network:
    input:
        data="results/nmr/work/data/{nmr_set}.npz",
        stages=lambda w: [
            NMR_MODEL.format(arch=w.arch, k=k) for k in range(NMR["network"]["stages"])
        ],
    output:
        network="results/nmr/work/network/{arch}/{nmr_set}.npz",
        run="results/nmr/work/network/{arch}/{nmr_set}_run.json",
    log:
        "logs/nmr/network_{arch}_{nmr_set}.log",
    benchmark:
        "results/benchmarks/nmr/network_{arch}_{nmr_set}.tsv"
    conda:
        TF_ENV
    params:
        damping=NMR["network"]["damping"],
    script:
        "../../scripts/nmr_network.py"


# every method's sigma network in one job (one TensorFlow start-up,
# reproflow.nmr.jobs.train_sigma_jobs); each keeps its own files, run
# manifest and backup
rule nmr_train_sigma:
    input:
        # mu for the NLL: the assessed methods' reconstructions of train and val
        # (or of sigma_train and sigma_val, NMR_SIGMA_SETS)
        unpack(
            lambda w: (
                {
                    f"network_{r}": f"results/nmr/work/network/{NMR_PRIMARY}/{s}.npz"
                    for r, s in zip(("train", "val"), NMR_SIGMA_SETS)
                }
                if "network_echo" in NMR_SIGMA
                else {}
            )
            | (
                {
                    f"ist_{r}": f"results/nmr/work/ist/{s}.npz"
                    for r, s in zip(("train", "val"), NMR_SIGMA_SETS)
                }
                if {"ist_echo", "ist_nus"} & set(NMR_SIGMA)
                else {}
            )
        ),
        train=f"results/nmr/work/data/{NMR_SIGMA_SETS[0]}.npz",
        val=f"results/nmr/work/data/{NMR_SIGMA_SETS[1]}.npz",
    output:
        model=expand("results/nmr/work/sigma/{m}.keras", m=NMR_SIGMA),
        curves=expand("results/nmr/plots/train_sigma_{m}.csv", m=NMR_SIGMA),
        run=expand("results/nmr/work/sigma/{m}_run.json", m=NMR_SIGMA),
    log:
        "logs/nmr/train_sigma.log",
    benchmark:
        "results/benchmarks/nmr/train_sigma.tsv"
    conda:
        TF_ENV
    threads: NMR["threads"]
    params:
        options=nmr_plan.training_options(NMR["uncertainty"]),
        seed=NMR["seed"],
        methods=NMR_SIGMA,
        backup=expand("results/nmr/work/backup/sigma/{m}", m=NMR_SIGMA),
    script:
        "../../scripts/nmr_train_sigma.py"


rule nmr_evaluate:
    input:
        unpack(
            lambda w: {
                f"network_{a}": f"results/nmr/work/network/{a}/{w.nmr_set}.npz"
                for a in NMR_ARCHS
            }
            | {f"sigma_{m}": f"results/nmr/work/sigma/{m}.keras" for m in NMR_SIGMA}
            | (
                {"spectrum": "resources/malt1/Malt.ft2"}
                if w.nmr_set == "malt1"
                else {}
            )
        ),
        data="results/nmr/work/data/{nmr_set}.npz",
        ist="results/nmr/work/ist/{nmr_set}.npz",
    output:
        json="results/nmr/work/eval/{nmr_set}.json",
        psq="results/nmr/plots/psq_{nmr_set}.csv",
        boxes="results/nmr/work/eval/{nmr_set}_sigma_boxes.npz",
        sigma_dir=directory("results/nmr/work/eval/{nmr_set}_spectra"),
        run="results/nmr/work/eval/{nmr_set}_run.json",
        figure=report_entry(
            "results/nmr/figures/figure2a_{nmr_set}.png",
            "nmr",
            "2. Figures",
            "nmr_figure2a.rst",
            {
                "figure": "Figure 2a: reconstruction and 95% band",
                "set": "{nmr_set}",
            },
        ),
    log:
        "logs/nmr/evaluate_{nmr_set}.log",
    benchmark:
        "results/benchmarks/nmr/evaluate_{nmr_set}.tsv"
    conda:
        TF_ENV
    params:
        primary=NMR_PRIMARY,
        archs=NMR_ARCHS,
        methods=NMR_SIGMA,
    script:
        "../../scripts/nmr_evaluate.py"


rule nmr_summary:
    input:
        evaluations=expand("results/nmr/work/eval/{s}.json", s=NMR_EVAL_SETS),
        boxes=expand("results/nmr/work/eval/{s}_sigma_boxes.npz", s=NMR_EVAL_SETS),
        curves=[
            f"results/nmr/plots/train_{a}_stage{k}.csv"
            for a in NMR_ARCHS
            for k in range(NMR["network"]["stages"])
        ]
        + expand("results/nmr/plots/train_sigma_{m}.csv", m=NMR_SIGMA),
    output:
        metrics="results/nmr/metrics.json",
        table="results/nmr/plots/quality_table.csv",
        summary_html=report_entry(
            "results/nmr/tables/summary.html",
            "nmr",
            SUMMARY_SUBCATEGORY,
            "nmr_report.rst",
            {"table": "quality, calibration and pSQ, ours beside the paper"},
        ),
        rmsd_figure=report_entry(
            "results/nmr/figures/figure2b_rmsd.png",
            "nmr",
            "2. Figures",
            "nmr_figure2b.rst",
            {"figure": "Figure 2b: RMSD of every method", "set": "all sets"},
        ),
        sigma_figure=report_entry(
            "results/nmr/figures/figure2c_sigma.png",
            "nmr",
            "2. Figures",
            "nmr_figure2c.rst",
            {"figure": "Figure 2c: predicted uncertainty", "set": "all sets"},
        ),
        report="results/nmr/tables/report.md",
        run="results/nmr/summary_run.json",
    log:
        "logs/nmr/summary.log",
    benchmark:
        "results/benchmarks/nmr/summary.tsv"
    conda:
        TF_ENV
    params:
        options=NMR,
    script:
        "../../scripts/nmr_summary.py"


STUDY_TARGETS["nmr"] = lambda: [
    "results/nmr/metrics.json",
    "results/nmr/mlflow_published.json",
]
# every job the study runs: the IST and network sets the evaluations and the sigma networks read
NMR_IST_SETS = sorted(
    set(NMR_EVAL_SETS)
    | (set(NMR_SIGMA_SETS) if {"ist_echo", "ist_nus"} & set(NMR_SIGMA) else set())
)
NMR_NETWORK_RUNS = [(a, s) for a in NMR_ARCHS for s in NMR_EVAL_SETS] + (
    [(NMR_PRIMARY, s) for s in NMR_SIGMA_SETS if s not in NMR_EVAL_SETS]
    if "network_echo" in NMR_SIGMA
    else []
)
STUDY_RUNS["nmr"] = lambda: {
    "nmr_ist": expand("results/nmr/work/ist/{s}_run.json", s=NMR_IST_SETS),
    "nmr_train_stage": [
        f"results/nmr/work/models/{a}/stage{k}_run.json"
        for a in NMR_ARCHS
        for k in range(NMR["network"]["stages"])
    ],
    "nmr_network": [
        f"results/nmr/work/network/{a}/{s}_run.json" for a, s in NMR_NETWORK_RUNS
    ],
    "nmr_train_sigma": expand("results/nmr/work/sigma/{m}_run.json", m=NMR_SIGMA),
    "nmr_evaluate": expand("results/nmr/work/eval/{s}_run.json", s=NMR_EVAL_SETS),
    "nmr_summary": ["results/nmr/summary_run.json"],
}
STUDY_DATASETS["nmr"] = lambda: ["malt1"] if NMR["malt1"] else []
