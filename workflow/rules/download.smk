# Download stage: every remote file of the registry, verified, to resources/.

# every wildcard of the download rules, and the values it takes (from the registry)
DOWNLOAD_WILDCARDS = {
    "dataset": "|".join(map(re.escape, REGISTRY)),
    "file": "|".join(
        re.escape(name) for entry in REGISTRY.values() for name in entry["files"]
    ),
    "archive": "|".join(re.escape(stem) for _, stem in archive_names()) or "^$",
}


rule download:
    output:
        shared_paths.resource("{dataset}", "{file}"),
    log:
        shared_paths.log("download", "{dataset}/{file}"),
    benchmark:
        shared_paths.benchmark("download", "{dataset}/{file}")
    wildcard_constraints:
        **DOWNLOAD_WILDCARDS,
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
        lambda wildcards: shared_paths.resource(
            wildcards.dataset, archive_names()[(wildcards.dataset, wildcards.archive)]
        ),
    output:
        directory(shared_paths.resource("{dataset}", "{archive}")),
    log:
        shared_paths.log("extract", "{dataset}/{archive}"),
    benchmark:
        shared_paths.benchmark("extract", "{dataset}/{archive}")
    wildcard_constraints:
        **DOWNLOAD_WILDCARDS,
    conda:
        ENV
    script:
        "../../scripts/extract.py"
