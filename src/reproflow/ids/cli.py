"""`reproflow kyoto synth` and `reproflow ids predict`."""

from __future__ import annotations

import argparse
import logging

log = logging.getLogger(__name__)


def _synth(args: argparse.Namespace) -> None:
    from reproflow.ids.synth import write_days  # noqa: PLC0415

    paths = write_days(args.out, args.days, args.rows_per_day, args.seed, args.first_day, args.label_noise)
    print(f"wrote {len(paths)} SYNTHETIC Kyoto-format day files to {args.out} (not Kyoto 2013 data)")


def _predict(args: argparse.Namespace) -> None:
    from reproflow.ids.predict import predict_files  # noqa: PLC0415

    totals = predict_files(args.model, args.input, args.out, args.batch_size)
    print(f"{totals['records']} records scored ({totals['attack']} attack), "
          f"{totals['rejected']} unparseable lines listed in {args.out}")


def register(subparsers: argparse._SubParsersAction) -> None:
    kyoto = subparsers.add_parser("kyoto", help="Kyoto 2013 format tools").add_subparsers(dest="kyoto_command", required=True)
    synth = kyoto.add_parser("synth", help="write SYNTHETIC Kyoto-format daily files (not real traffic)")
    synth.add_argument("--days", type=int, required=True)
    synth.add_argument("--rows-per-day", type=int, required=True)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--out", required=True, help="folder for the YYYYMMDD.txt files")
    synth.add_argument("--first-day", default="20130101", help="YYYYMMDD of the first file")
    synth.add_argument("--label-noise", type=float, default=0.07, help="share of flipped labels")
    synth.set_defaults(func=_synth)

    ids = subparsers.add_parser("ids", help="study 1: GRU-SVM intrusion detection").add_subparsers(dest="ids_command", required=True)
    predict = ids.add_parser("predict", help="score raw Kyoto-format files with a trained model folder")
    predict.add_argument("--model", required=True, help="a trained model folder (model.keras, transform.json, model.json)")
    predict.add_argument("--input", required=True, help="a YYYYMMDD.txt file, a .zip archive or a folder of them")
    predict.add_argument("--out", required=True, help="the predictions CSV (file, line, score, class)")
    predict.add_argument("--batch-size", type=int, default=1024)
    predict.set_defaults(func=_predict)
