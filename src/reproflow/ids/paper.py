"""The paper's published numbers (Agarap 2018, Tables 2-5), as data.

Rates are fractions. The paper's training counts are summed over 5 epochs
and its test counts over 5 passes of the same test set (REFERENCE.md). Its
Table 5 is internally inconsistent (TNR + FPR != 1): recorded as printed.
"""

from __future__ import annotations

TABLE2 = {"train": {"normal": 794_512, "attack": 1_103_728}, "test": {"normal": 157_914, "attack": 262_694}}

TABLE3 = {
    "gru_svm": {
        "n_train": 1_898_240, "n_test": 420_608, "epochs": 5, "train_accuracy": 0.8154, "test_accuracy": 0.8415,
        "train_loss": 131.21, "test_loss": 129.62, "train_minutes": 16.72, "test_minutes": 1.37,
        "train_fp": 889_327, "test_fp": 192_635, "train_fn": 862_419, "test_fn": 140_535,
    },
    "gru_softmax": {
        "n_train": 1_898_240, "n_test": 420_608, "epochs": 5, "train_accuracy": 0.6307, "test_accuracy": 0.7075,
        "train_loss": 0.62142, "test_loss": 0.62518, "train_minutes": 17.18, "test_minutes": 1.67,
        "train_fp": 3_017_548, "test_fp": 32_255, "train_fn": 487_175, "test_fn": 582_105,
    },
}

TABLE4 = {   # training
    "gru_svm": {"tpr": 0.843726, "tnr": 0.776132, "fpr": 0.223867, "fnr": 0.156273},
    "gru_softmax": {"tpr": 0.911721, "tnr": 0.240402, "fpr": 0.759597, "fnr": 0.0882781},
}

TABLE5 = {   # testing
    "gru_svm": {"tpr": 0.893005, "tnr": 0.756025, "fpr": 0.106995, "fnr": 0.243975},
    "gru_softmax": {"tpr": 0.556819, "tnr": 0.959149, "fpr": 0.0408513, "fnr": 0.443181},
}

# Derived from the paper's test counts (REFERENCE.md).
DERIVED = {
    "gru_svm": {"test_f1": 0.876, "test_balanced_accuracy": 0.825},
    "gru_softmax": {"test_f1": 0.704, "test_balanced_accuracy": 0.758},
}
ALWAYS_ATTACK_TEST_ACCURACY = 0.6246
