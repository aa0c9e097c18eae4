"""`reproflow kyoto synth` and `reproflow ids predict`."""

from __future__ import annotations

import argparse
import logging

from reproflow.ids import paths as ids_paths

log = logging.getLogger(__name__)


def _synth(args: argparse.Namespace) -> None:
    from reproflow.ids.synth import write_days  # noqa: PLC0415

    paths = write_days(args.out, args.days, args.rows_per_day, args.seed, args.first_day, args.label_noise)
    print(f"wrote {len(paths)} SYNTHETIC Kyoto-format day files to {args.out} (not Kyoto 2013 data)")


def _predict(args: argparse.Namespace) -> None:
    from reproflow.errors import ReproflowError  # noqa: PLC0415
    from reproflow.ids.predict import predict_files, summary_line  # noqa: PLC0415

    if not 1 <= args.max_member_mb <= 1 << 20:
        raise ReproflowError(f"ids predict: --max-member-mb {args.max_member_mb}; expected an integer in 1..{1 << 20}")
    totals = predict_files(args.model, args.input, args.out, args.batch_size, args.max_member_mb << 20)
    print(summary_line(totals, args.out))


def register(subparsers: argparse._SubParsersAction) -> None:
    kyoto = subparsers.add_parser(
        "kyoto", help="Kyoto 2013 format tools (Study 1: GRU-SVM intrusion detection (ids))",
        description="Tools for the Kyoto 2013 honeypot traffic format of Study 1: GRU-SVM intrusion detection (ids)."
    ).add_subparsers(dest="kyoto_command", required=True, metavar="COMMAND")
    synth = kyoto.add_parser(
        "synth", help="write SYNTHETIC Kyoto-format daily files (not real traffic)",
        description="Write SYNTHETIC daily files YYYYMMDD.txt in the Kyoto 2013 format (24 tab-separated fields), "
        "with a SYNTHETIC.md note, for trying the workflow and `reproflow ids predict` without the real data. "
        "Nothing learnt from them is a Kyoto 2013 result. A file already in --out is kept when identical and "
        "refused otherwise.")
    synth.add_argument("--days", type=int, required=True, help="number of daily files (1..3660)")
    synth.add_argument("--rows-per-day", type=int, required=True, help="records per file (1..10 million)")
    synth.add_argument("--seed", type=int, default=0, help="random seed (0..2^63-1)")
    synth.add_argument("--out", required=True, help="folder for the YYYYMMDD.txt files (an existing different "
                       "file there is refused, never replaced)")
    synth.add_argument("--first-day", default="20130101", help="YYYYMMDD date of the first file")
    synth.add_argument("--label-noise", type=float, default=0.07, help="share of flipped labels, in [0, 1)")
    synth.set_defaults(func=_synth)

    ids = subparsers.add_parser(
        "ids", help="Study 1: GRU-SVM intrusion detection (ids)",
        description="Study 1: GRU-SVM intrusion detection (ids), Agarap 2018 on Kyoto 2013 traffic: use a model "
        "the workflow trained."
    ).add_subparsers(dest="ids_command", required=True, metavar="COMMAND")
    predict = ids.add_parser(
        "predict", help="score raw Kyoto-format files with a trained model folder",
        description="Score raw Kyoto-format records (YYYYMMDD.txt files, .zip archives of them, or a folder) "
        "with a model folder the workflow wrote "
        f"({ids_paths.TRAIN_MODEL.format(protocol='<protocol>', features='<features>', arm='<arm>', seed='<k>')}). "
        "Writes one CSV row per line: file, line, score, class (1 = attack), and an error row for each line "
        "that does not parse. Prints how many records were scored, how many lines were unparseable and how many "
        "feature values fell outside the range seen in training (clipped): many of them mean your traffic "
        "differs from the training data.")
    predict.add_argument("--model", required=True, help="a trained model folder (model.keras, transform.json, model.json)")
    predict.add_argument("--input", required=True, help="a YYYYMMDD.txt file, a .zip archive or a folder of them")
    predict.add_argument("--out", required=True, help="the predictions CSV (file, line, score, class); never one "
                         "of the inputs, written only when complete")
    predict.add_argument("--batch-size", type=int, default=1024, help="records per model batch (1..65536)")
    predict.add_argument("--max-member-mb", type=int, default=1024,
                         help="refuse a zip member declaring more than this many MiB uncompressed")
    predict.set_defaults(func=_predict)
