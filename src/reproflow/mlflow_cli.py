"""`reproflow mlflow pending|relog`: runs logged while the MLflow store did
not answer are kept in journals (results/<study>/mlflow_journal/*.jsonl);
these commands list them and send them to the store."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("mlflow", help="journals of runs the MLflow store did not receive",
                                   description=__doc__)
    commands = parser.add_subparsers(dest="mlflow_command", required=True, metavar="COMMAND")
    pending = commands.add_parser("pending", help="list journals not yet all in MLflow", description=__doc__)
    pending.add_argument("--results", default="results", help="results folder to search (default: results)")
    pending.set_defaults(func=pending_command)
    relog = commands.add_parser("relog", help="send journals to MLflow", description=__doc__)
    relog.add_argument("journals", nargs="*", help="journal files (default: every pending one under --results)")
    relog.add_argument("--results", default="results", help="results folder to search (default: results)")
    relog.add_argument("--uri", help="store to send to (default: MLFLOW_TRACKING_URI, else the journal's own)")
    relog.set_defaults(func=relog_command)


def pending_command(args: argparse.Namespace) -> None:
    from reproflow.journal import scan_journals  # no MLflow needed to list them

    paths, corrupt = scan_journals(args.results)
    for path in paths:
        print(path)
    for path, message in corrupt:
        print(f"corrupt: {message}")
    log.info("%d journal(s) under %s not yet in MLflow%s", len(paths), args.results,
             f", {len(corrupt)} corrupt (left alone; fix or remove them)" if corrupt else "")


def relog_command(args: argparse.Namespace) -> None:
    """Send every journal that can be sent; then name those that could not."""
    from reproflow import tracking
    from reproflow.errors import ReproflowError

    if args.journals:
        paths, failed = [Path(p) for p in args.journals], []
    else:
        paths, corrupt = tracking.scan_journals(args.results)
        failed = [message for _, message in corrupt]
    sent = 0
    for path in paths:
        try:
            run_id = tracking.relog(path, args.uri)
        except ReproflowError as error:
            failed.append(str(error))
            continue
        sent += 1
        log.info("%s -> MLflow run %s", path, run_id)
    log.info("%d journal(s) sent", sent)
    if failed:
        raise ReproflowError(f"{len(failed)} journal(s) not sent:\n  " + "\n  ".join(failed))
