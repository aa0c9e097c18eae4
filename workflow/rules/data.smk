# Provenance of the downloaded data: one row per file, shown in the report.


rule datasets_card:
    input:
        lambda wildcards: [
            path
            for ds, names in run_files().items()
            for path in dataset_files(ds, names)
        ],
    output:
        csv="results/data/datasets.csv",
        html=report_entry(
            "results/data/datasets.html",
            "data",
            None,
            "datasets.rst",
            {"table": "downloaded files: checksums, licences, citations"},
        ),
    log:
        "logs/data/datasets_card.log",
    benchmark:
        "results/benchmarks/data/datasets_card.tsv"
    conda:
        ENV
    params:
        entries=lambda wildcards: {
            ds: {**REGISTRY[ds], "files": {n: REGISTRY[ds]["files"][n] for n in names}}
            for ds, names in run_files().items()
        },
    script:
        "../../scripts/datasets_card.py"
