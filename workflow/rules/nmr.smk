# Study 3: MR-Ai NMR echo / anti-echo reconstruction, uncertainty and pSQ.
# Logic in reproflow.nmr; scripts/nmr_*.py are adapters. Training rules are
# named nmr_train_* so the cluster profile can give them a GPU.

from reproflow.nmr import paths as nmr_paths
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

# The cascade's chain (simulate, train, reconstruct, train sigma, evaluate) is
# the run's longest: started first, it overlaps the other studies' jobs
# instead of ending the run alone
NMR_PRIORITY = 1


rule nmr_simulate:
    output:
        nmr_paths.data("{split}"),
    log:
        nmr_paths.LAYOUT.log("simulate_{split}"),
    benchmark:
        nmr_paths.LAYOUT.benchmark("simulate_{split}")
    wildcard_constraints:
        **nmr_paths.WILDCARDS,
    priority: NMR_PRIORITY
    conda:
        TF_ENV
    params:
        recipe=lambda w: nmr_plan.split_recipe(w.split, NMR),
    script:
        "../../scripts/nmr_simulate.py"


rule nmr_malt1:
    input:
        spectrum=nmr_paths.MALT1_SPECTRUM,
    output:
        nmr_paths.data("malt1"),
    log:
        nmr_paths.LAYOUT.log("malt1"),
    benchmark:
        nmr_paths.LAYOUT.benchmark("malt1")
    conda:
        TF_ENV
    params:
        nus_fraction=NMR["nus_fraction"],
        seed=NMR["seed"],
    script:
        "../../scripts/nmr_malt1.py"


rule nmr_ist:
    input:
        data=nmr_paths.data(),
    output:
        ist=nmr_paths.ist(),
        run=nmr_paths.ist(suffix="_run.json"),
    log:
        nmr_paths.LAYOUT.log("ist_{nmr_set}"),
    benchmark:
        nmr_paths.LAYOUT.benchmark("ist_{nmr_set}")
    wildcard_constraints:
        **nmr_paths.WILDCARDS,
    priority: NMR_PRIORITY
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
        train=nmr_paths.data("train"),
        val=nmr_paths.data("val"),
    output:
        model=[nmr_paths.model(stage=k) for k in NMR_STAGES],
        curves=[nmr_paths.model_curves(stage=k) for k in NMR_STAGES],
        run=[nmr_paths.model(stage=k, suffix="_run.json") for k in NMR_STAGES],
    log:
        nmr_paths.LAYOUT.log("train_{arch}"),
    benchmark:
        nmr_paths.LAYOUT.benchmark("train_{arch}")
    wildcard_constraints:
        **nmr_paths.WILDCARDS,
    priority: NMR_PRIORITY
    conda:
        TF_ENV
    threads: NMR["threads"]
    params:
        options=nmr_plan.training_options(NMR["network"]),
        seed=NMR["seed"],
        backup=[f"{nmr_paths.WORK}/backup/{{arch}}/stage{k}" for k in NMR_STAGES],
    script:
        "../../scripts/nmr_train_stage.py"


rule nmr_network:
    input:
        data=nmr_paths.data(),
        stages=lambda w: [nmr_paths.model(w.arch, k) for k in NMR_STAGES],
    output:
        network=nmr_paths.network(),
        run=nmr_paths.network(suffix="_run.json"),
    log:
        nmr_paths.LAYOUT.log("network_{arch}_{nmr_set}"),
    benchmark:
        nmr_paths.LAYOUT.benchmark("network_{arch}_{nmr_set}")
    wildcard_constraints:
        **nmr_paths.WILDCARDS,
    priority: NMR_PRIORITY
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
                    f"network_{r}": nmr_paths.network(NMR_PRIMARY, s)
                    for r, s in zip(("train", "val"), NMR_SIGMA_SETS)
                }
                if "network_echo" in NMR_SIGMA
                else {}
            )
            | (
                {
                    f"ist_{r}": nmr_paths.ist(s)
                    for r, s in zip(("train", "val"), NMR_SIGMA_SETS)
                }
                if {"ist_echo", "ist_nus"} & set(NMR_SIGMA)
                else {}
            )
        ),
        train=nmr_paths.data(NMR_SIGMA_SETS[0]),
        val=nmr_paths.data(NMR_SIGMA_SETS[1]),
    output:
        model=[nmr_paths.sigma(m) for m in NMR_SIGMA],
        curves=[nmr_paths.sigma_curves(m) for m in NMR_SIGMA],
        run=[nmr_paths.sigma(m, suffix="_run.json") for m in NMR_SIGMA],
        # score.calibration_path of each model, fitted on val
        calibration=[nmr_paths.sigma(m, ".calibration.json") for m in NMR_SIGMA],
    log:
        nmr_paths.LAYOUT.log("train_sigma"),
    benchmark:
        nmr_paths.LAYOUT.benchmark("train_sigma")
    priority: NMR_PRIORITY
    conda:
        TF_ENV
    threads: NMR["threads"]
    params:
        options=nmr_plan.training_options(NMR["uncertainty"]),
        seed=NMR["seed"],
        methods=NMR_SIGMA,
        backup=[f"{nmr_paths.WORK}/backup/sigma/{m}" for m in NMR_SIGMA],
    script:
        "../../scripts/nmr_train_sigma.py"


rule nmr_evaluate:
    input:
        unpack(
            lambda w: {
                f"network_{a}": nmr_paths.network(a, w.nmr_set) for a in NMR_ARCHS
            }
            | {f"sigma_{m}": nmr_paths.sigma(m) for m in NMR_SIGMA}
            # read beside each model by score.load_calibration
            | {
                f"calibration_{m}": nmr_paths.sigma(m, ".calibration.json")
                for m in NMR_SIGMA
            }
            | ({"spectrum": nmr_paths.MALT1_SPECTRUM} if w.nmr_set == "malt1" else {})
        ),
        data=nmr_paths.data(),
        ist=nmr_paths.ist(),
    output:
        json=nmr_paths.evaluation(),
        psq=f"{nmr_paths.LAYOUT.plots}/psq_{{nmr_set}}.csv",
        boxes=nmr_paths.evaluation(suffix="_sigma_boxes.npz"),
        sigma_dir=directory(nmr_paths.evaluation(suffix="_spectra")),
        run=nmr_paths.evaluation(suffix="_run.json"),
        figure=report_entry(
            f"{nmr_paths.LAYOUT.figures}/figure2a_{{nmr_set}}.png",
            "nmr",
            "2. Figures",
            "nmr_figure2a.rst",
            {
                "figure": "Figure 2a: reconstruction and 95% band",
                "set": "{nmr_set}",
            },
        ),
    log:
        nmr_paths.LAYOUT.log("evaluate_{nmr_set}"),
    benchmark:
        nmr_paths.LAYOUT.benchmark("evaluate_{nmr_set}")
    wildcard_constraints:
        **nmr_paths.WILDCARDS,
    priority: NMR_PRIORITY
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
        evaluations=[nmr_paths.evaluation(s) for s in NMR_EVAL_SETS],
        boxes=[nmr_paths.evaluation(s, "_sigma_boxes.npz") for s in NMR_EVAL_SETS],
        curves=[nmr_paths.model_curves(a, k) for a in NMR_ARCHS for k in NMR_STAGES]
        + [nmr_paths.sigma_curves(m) for m in NMR_SIGMA],
    output:
        metrics=nmr_paths.LAYOUT.metrics,
        table=f"{nmr_paths.LAYOUT.plots}/quality_table.csv",
        summary_html=report_entry(
            f"{nmr_paths.LAYOUT.tables}/summary.html",
            "nmr",
            SUMMARY_SUBCATEGORY,
            "nmr_report.rst",
            {"table": "quality, calibration and pSQ, ours beside the paper"},
        ),
        rmsd_figure=report_entry(
            f"{nmr_paths.LAYOUT.figures}/figure2b_rmsd.png",
            "nmr",
            "2. Figures",
            "nmr_figure2b.rst",
            {"figure": "Figure 2b: RMSD of every method", "set": "all sets"},
        ),
        sigma_figure=report_entry(
            f"{nmr_paths.LAYOUT.figures}/figure2c_sigma.png",
            "nmr",
            "2. Figures",
            "nmr_figure2c.rst",
            {"figure": "Figure 2c: predicted uncertainty", "set": "all sets"},
        ),
        report=f"{nmr_paths.LAYOUT.tables}/report.md",
        run=nmr_paths.LAYOUT.summary_run,
    log:
        nmr_paths.LAYOUT.log("summary"),
    benchmark:
        nmr_paths.LAYOUT.benchmark("summary")
    conda:
        TF_ENV
    params:
        options=NMR,
    script:
        "../../scripts/nmr_summary.py"


STUDY_TARGETS["nmr"] = lambda: [nmr_paths.LAYOUT.metrics, nmr_paths.LAYOUT.published]
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
    "nmr_ist": [nmr_paths.ist(s, "_run.json") for s in NMR_IST_SETS],
    "nmr_train_stage": [
        nmr_paths.model(a, k, "_run.json") for a in NMR_ARCHS for k in NMR_STAGES
    ],
    "nmr_network": [nmr_paths.network(a, s, "_run.json") for a, s in NMR_NETWORK_RUNS],
    "nmr_train_sigma": [nmr_paths.sigma(m, "_run.json") for m in NMR_SIGMA],
    "nmr_evaluate": [nmr_paths.evaluation(s, "_run.json") for s in NMR_EVAL_SETS],
    "nmr_summary": [nmr_paths.LAYOUT.summary_run],
}
STUDY_DATASETS["nmr"] = lambda: ["malt1"] if NMR["malt1"] else []
