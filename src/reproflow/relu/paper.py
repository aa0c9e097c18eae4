"""The paper's reported numbers (Agarap 2018), as data.

Accuracies in percent; precision, recall and F1 as printed (two decimals;
scikit-learn's classification_report "avg / total" of the time, i.e. the
support-weighted average).
"""

from __future__ import annotations

# (table, data set, model) -> head -> metric -> value
RESULTS: dict[tuple[str, str, str], dict[str, dict[str, float]]] = {
    ("Table 3", "mnist", "ffnn"): {
        "softmax": {"cv_accuracy": 99.29, "test_accuracy": 97.98, "precision": 0.98, "recall": 0.98, "f1": 0.98},
        "relu": {"cv_accuracy": 98.22, "test_accuracy": 97.77, "precision": 0.98, "recall": 0.98, "f1": 0.98},
    },
    ("Table 4", "mnist", "cnn"): {
        "softmax": {"cv_accuracy": 97.23, "test_accuracy": 95.36, "precision": 0.95, "recall": 0.95, "f1": 0.95},
        "relu": {"cv_accuracy": 73.53, "test_accuracy": 91.74, "precision": 0.92, "recall": 0.92, "f1": 0.92},
    },
    ("Table 6", "fashion-mnist", "ffnn"): {
        "softmax": {"cv_accuracy": 98.87, "test_accuracy": 89.35, "precision": 0.89, "recall": 0.89, "f1": 0.89},
        "relu": {"cv_accuracy": 92.23, "test_accuracy": 89.06, "precision": 0.89, "recall": 0.89, "f1": 0.89},
    },
    ("Table 7", "fashion-mnist", "cnn"): {
        "softmax": {"cv_accuracy": 91.96, "test_accuracy": 86.08, "precision": 0.86, "recall": 0.86, "f1": 0.86},
        "relu": {"cv_accuracy": 83.24, "test_accuracy": 85.84, "precision": 0.86, "recall": 0.86, "f1": 0.86},
    },
    ("Table 9", "wdbc", "ffnn"): {
        "softmax": {"cv_accuracy": 91.21, "test_accuracy": 92.40, "precision": 0.92, "recall": 0.92, "f1": 0.92},
        "relu": {"cv_accuracy": 87.96, "test_accuracy": 90.64, "precision": 0.91, "recall": 0.91, "f1": 0.90},
    },
}

# Tables 5 and 8: CNN-ReLU, (loss, accuracy) of folds 1..10 of the paper's CV
FOLDS: dict[tuple[str, str, str, str], list[tuple[float, float]]] = {
    ("Table 5", "mnist", "cnn", "relu"): [
        (1.9060128301398311, 0.32963837901722315), (1.4318902588488513, 0.5091768125718277),
        (1.362783239967884, 0.5942213337366827), (0.8257899198037331, 0.7495911319797827),
        (1.222473526516734, 0.7038720233118376), (0.4512576775334098, 0.8729090907790444),
        (0.49083630082824015, 0.8601818182685158), (0.34528968995411613, 0.9032199380288064),
        (0.30161443973038743, 0.912663755545276), (0.279967466075669, 0.9171823807790317),
    ],
    ("Table 8", "fashion-mnist", "cnn", "relu"): [
        (0.7505188028133193, 0.7309229651162791), (0.6294445606858231, 0.7821584302325582),
        (0.5530192871624917, 0.8128293656488342), (0.468552251288519, 0.8391494002614356),
        (0.4499297190579501, 0.8409090909090909), (0.45004472223195163, 0.8499999999566512),
        (0.4096944159454683, 0.855610110994295), (0.39893951664539995, 0.8681098779960613),
        (0.37760543597664203, 0.8637190683266308), (0.34610279169377683, 0.8804367606156083),
    ],
}

METRICS = ("cv_accuracy", "test_accuracy", "precision", "recall", "f1")
# lookups: (data set, model) -> its table; (data set, model, head) -> (table, folds)
TABLE_OF = {(dataset, model): table for table, dataset, model in RESULTS}
FOLDS_OF = {(dataset, model, head): (table, rows) for (table, dataset, model, head), rows in FOLDS.items()}
