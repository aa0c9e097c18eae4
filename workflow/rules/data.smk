# Provenance of the downloaded data: one row per file, shown in the report.


rule datasets_card:
    input:
        lambda wildcards: [
            path
            for ds, names in run_files().items()
            for path in dataset_files(ds, names)
        ],
    output:
        csv=shared_paths.DATASETS_CARD,
        html=report_entry(
            shared_paths.DATASETS_CARD_HTML,
            "data",
            None,
            "datasets.rst",
            {"table": "downloaded files: checksums, licences, citations"},
        ),
    log:
        shared_paths.log("data", "datasets_card"),
    benchmark:
        shared_paths.benchmark("data", "datasets_card")
    conda:
        ENV
    params:
        entries=lambda wildcards: {
            ds: {**REGISTRY[ds], "files": {n: REGISTRY[ds]["files"][n] for n in names}}
            for ds, names in run_files().items()
        },
    script:
        "../../scripts/datasets_card.py"
