"""Copy a finished workflow run's NMR cascade and uncertainty networks into
the package (src/reproflow/nmr/weights/) with weights.json, the manifest
that records the run's config, command, commit and numbers.

    python scripts/nmr_ship_weights.py --run-dir /tmp/nmrrun --architecture wnn_bf \\
        --command "snakemake --cores 2 --configfile config/nmr_cpu.yaml" [--commit SHA] [--extra wall.json]
"""

import argparse
import json
from pathlib import Path

from reproflow.nmr import shipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", required=True, help="the workflow's working directory of the run")
    parser.add_argument("--architecture", default="wnn_bf")
    parser.add_argument("--command", required=True, help="the command that made the run, for the manifest")
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--source-root", help="the reproflow/nmr sources the run used (default: these)")
    parser.add_argument("--commit", help="the commit whose code the run used (default: HEAD of --repo, "
                        "with its uncommitted files listed)")
    parser.add_argument("--extra", help="JSON file of further manifest entries (e.g. wall times)")
    parser.add_argument("--out", default=str(shipped.WEIGHTS))
    args = parser.parse_args()
    extra = json.loads(Path(args.extra).read_text()) if args.extra else None
    info = shipped.ship(args.run_dir, architecture=args.architecture, command=args.command, repo=args.repo,
                        source_root=args.source_root, commit=args.commit, out=args.out, extra=extra)
    print(json.dumps({k: info[k] for k in ("architecture", "stages", "files_sha256", "git")}, indent=2))


if __name__ == "__main__":
    main()
