"""Study 1 models: the L2-SVM loss, the argmax(sign) rule, shapes, one tiny
training run with checkpoints, and `reproflow ids predict` on raw files."""

import csv
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras import ops  # noqa: E402

from reproflow import cli  # noqa: E402
from reproflow.errors import ReproflowError  # noqa: E402
from reproflow.ids.models import L2SVMLoss, build_model, compile_model, svm_classes  # noqa: E402
from reproflow.ids.preprocess import FEATURES, fit_split  # noqa: E402
from reproflow.ids.train import OneHotBatches, scores_and_classes, train_arm  # noqa: E402


def test_l2_svm_loss_matches_a_hand_computation():
    y_true = np.array([[1, 0], [0, 1]], np.float32)         # one-hot; targets become {-1, +1}
    y_pred = np.array([[0.5, -2.0], [0.3, 0.2]], np.float32)
    # row 1: y=(+1,-1): max(0,1-0.5)^2 + max(0,1-2)^2 = 0.25 + 0
    # row 2: y=(-1,+1): max(0,1+0.3)^2 + max(0,1-0.2)^2 = 1.69 + 0.64
    expected = 0.5 * (0.25 + 1.69 + 0.64)                  # C = 0.5, summed over the batch
    assert float(L2SVMLoss(0.5)(y_true, y_pred)) == pytest.approx(expected, rel=1e-6)


def test_svm_head_regularises_only_w_with_half_squared_norm():
    model = build_model("gru_svm", n_steps=21, units=4, keep_prob=0.85)
    kernel = model.get_layer("svm").kernel
    assert float(ops.sum(model.losses)) == pytest.approx(0.5 * float(ops.sum(kernel ** 2)), rel=1e-5)
    assert len(model.losses) == 1


def test_argmax_sign_rule_gives_class_0_when_both_outputs_share_a_sign():
    outputs = np.array([[1.0, 2.0], [-1.0, -0.1], [-0.5, 0.5], [0.5, -0.5], [0.0, 0.0]], np.float32)
    assert ops.convert_to_numpy(svm_classes(outputs)).tolist() == [0, 0, 1, 0, 0]
    assert scores_and_classes(outputs, "gru_svm")[1].tolist() == [0, 0, 1, 0, 0]


@pytest.mark.parametrize("arm", ["gru_svm", "gru_softmax"])
def test_model_maps_21_by_10_one_hot_input_to_two_outputs(arm):
    model = build_model(arm, n_steps=21, units=8, keep_prob=0.8)
    x = OneHotBatches(np.random.default_rng(0).integers(0, 10, (5, 21)).astype(np.uint8), None, 5)[0][0]
    assert x.shape == (5, 21, 10)
    assert tuple(model.predict(x, verbose=0).shape) == (5, 2)
    stateful = build_model(arm, n_steps=18, units=8, keep_prob=0.8, batch_size=4, stateful=True, reset_after=False)
    assert tuple(stateful.input_shape) == (4, 18, 10)


def _tiny(seed=0, n=256):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 10, (n, 21)).astype(np.uint8)
    y = (x[:, 0] > 4).astype(np.uint8)
    return x, y


def test_one_epoch_trains_checkpoints_and_keeps_history(tmp_path):
    x, y = _tiny()
    model, history, _ = train_arm(x, y, {"test": _tiny(1, 64)}, arm="gru_svm", protocol="paper", units=8,
                                  keep_prob=0.85, learning_rate=1e-3, epochs=1, batch_size=64, svm_c=0.5,
                                  seed=0, backup_dir=tmp_path / "ckpt")
    assert len(history) == 1 and {"train_accuracy", "test_accuracy", "train_fp", "test_fn"} <= set(history[0])
    assert history[0]["train_tp"] + history[0]["train_fp"] + history[0]["train_tn"] + history[0]["train_fn"] == 256
    assert json.loads((tmp_path / "ckpt" / "history.json").read_text()) == history
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(again.predict(OneHotBatches(x, None, 64), verbose=0),
                               model.predict(OneHotBatches(x, None, 64), verbose=0), rtol=1e-5)
    with pytest.raises(ValueError, match="multiple of 64"):
        train_arm(x[:100], y[:100], {}, arm="gru_svm", protocol="paper", units=8, keep_prob=0.85,
                  learning_rate=1e-3, epochs=1, batch_size=64, svm_c=0.5, seed=0, backup_dir=tmp_path / "c2")


def test_predict_cli_scores_raw_files_and_lists_unparseable_lines(tmp_path, capsys):
    from reproflow.ids import jobs
    from reproflow.ids.synth import write_days

    raw = write_days(tmp_path / "raw", days=2, rows_per_day=50, seed=5)
    stats = tmp_path / "stats.npz"
    jobs.parse_day(source=str(raw[0]), day=raw[0].stem, max_reject_share=0.0, split_seed=0, test_share=0.2,
                   out={"columns": str(tmp_path / "c.npz"), "stats": str(stats),
                         "rejects": str(tmp_path / "r.tsv"), "info": str(tmp_path / "i.json")})
    spec = fit_split([stats], "all")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    compile_model(build_model("gru_svm", n_steps=21, units=4, keep_prob=0.85), "gru_svm", 1e-3).save(
        model_dir / "model.keras")
    (model_dir / "transform.json").write_text(json.dumps({"protocol": "clean", "features": FEATURES, "spec": spec}))
    (model_dir / "model.json").write_text(json.dumps({"arm": "gru_svm", "feature_set": "all"}))
    (model_dir / ".snakemake_timestamp").touch()   # as a folder the workflow wrote (a directory() output)
    with raw[1].open("a") as handle:
        handle.write("broken\trecord\n")
    if "reproflow.ids.cli" not in cli.COMMAND_MODULES:
        cli.COMMAND_MODULES.append("reproflow.ids.cli")
    out = tmp_path / "predictions.csv"
    assert cli.main(["ids", "predict", "--model", str(model_dir), "--input", str(tmp_path / "raw"),
                     "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 101 and {r["file"] for r in rows} == {str(p) for p in raw}
    broken = [r for r in rows if r["reject_reason"]]
    assert len(broken) == 1 and broken[0]["line"] == "51" and broken[0]["score"] == ""
    assert {r["class"] for r in rows if not r["reject_reason"]} <= {"0", "1"}
    assert "1 unparseable lines" in capsys.readouterr().out
    assert cli.main(["ids", "predict", "--model", str(tmp_path), "--input", str(raw[0]), "--out", str(out)]) == 1


def test_kyoto_synth_cli_writes_days(tmp_path, capsys):
    if "reproflow.ids.cli" not in cli.COMMAND_MODULES:
        cli.COMMAND_MODULES.append("reproflow.ids.cli")
    assert cli.main(["kyoto", "synth", "--days", "2", "--rows-per-day", "20", "--seed", "1",
                     "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.glob("*.txt")) == ["20130101.txt", "20130102.txt"]
    assert "SYNTHETIC" in capsys.readouterr().out


def test_training_that_diverges_stops_with_the_job_and_epoch_named(tmp_path):
    # a learning rate of 1e38 sends the weights to infinity in the first epoch: the job must
    # stop there with an error, not go on to score and report a network of NaNs
    x, y = _tiny()
    with pytest.raises(ReproflowError, match=r"ids_train_final clean/all/gru_svm/seed0: training diverged at "
                                             r"epoch 1: .*NaN or infinite") as error:
        train_arm(x, y, {"test": _tiny(1, 64)}, arm="gru_svm", protocol="clean", units=8, keep_prob=0.85,
                  learning_rate=1e38, epochs=2, batch_size=64, svm_c=0.5, seed=0, backup_dir=tmp_path / "ckpt",
                  label="ids_train_final clean/all/gru_svm/seed0")
    assert "loss" in str(error.value)
    assert not (tmp_path / "ckpt" / "history.json").exists()     # the diverged epoch was never kept
