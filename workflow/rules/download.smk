# Download stage: every remote file of the registry, verified, to resources/.


rule download:
    output:
        "resources/{dataset}/{file}",
    log:
        "logs/download/{dataset}/{file}.log",
    benchmark:
        "results/benchmarks/download/{dataset}/{file}.tsv"
    wildcard_constraints:
        file="|".join(
            re.escape(name) for entry in REGISTRY.values() for name in entry["files"]
        ),
    conda:
        ENV
    params:
        # the file's identity only: a moved URL or a new mirror re-downloads nothing
        checksum=lambda wildcards: {
            key: REGISTRY[wildcards.dataset]["files"][wildcards.file][key]
            for key in ("sha256", "size")
        },
    script:
        "../../scripts/download.py"


rule extract:
    input:
        lambda wildcards: "resources/{dataset}/"
        + archive_names()[(wildcards.dataset, wildcards.archive)],
    output:
        directory("resources/{dataset}/{archive}"),
    log:
        "logs/extract/{dataset}/{archive}.log",
    benchmark:
        "results/benchmarks/extract/{dataset}/{archive}.tsv"
    wildcard_constraints:
        archive="|".join(re.escape(stem) for _, stem in archive_names()) or "^$",
    conda:
        ENV
    script:
        "../../scripts/extract.py"
