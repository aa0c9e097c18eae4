"""The ReLU-head loss matches Keras' arithmetic by hand; the models match Tables 1 and 2."""

import math

import keras
import numpy as np
import pytest
from keras import ops

from reproflow.relu.models import EPSILON, build_cnn, build_ffnn, compile_model, relu_head_crossentropy


def loss(y_true, y_pred):
    return ops.convert_to_numpy(relu_head_crossentropy(
        ops.convert_to_tensor(np.asarray(y_true, "float32")), ops.convert_to_tensor(np.asarray(y_pred, "float32"))))


def test_loss_is_the_normalised_clipped_crossentropy():
    y_pred = [[2.0, 1.0, 1.0], [0.0, 3.0, 0.0], [0.5, 0.0, 0.0]]
    y_true = [[1, 0, 0], [0, 1, 0], [0, 1, 0]]
    expected = [
        -math.log(2 / 4),        # outputs divided by their sum
        -math.log(1 - EPSILON),  # p = 1 clipped to 1 - 1e-7
        -math.log(EPSILON),      # p = 0 clipped to 1e-7
    ]
    np.testing.assert_allclose(loss(y_true, y_pred), expected, rtol=1e-4, atol=1e-6)  # float32


def test_all_zero_outputs_count_as_uniform_prediction():
    values = loss([[0, 0, 1, 0], [1, 0, 0, 0]], [[0, 0, 0, 0], [1, 1, 0, 0]])
    assert np.all(np.isfinite(values))
    np.testing.assert_allclose(values, [math.log(4), math.log(2)], rtol=1e-5)


def test_all_zero_row_has_a_finite_zero_gradient():
    model = build_ffnn(3, 2, "relu", hidden=(4,))
    head = model.layers[-1]
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])  # every output 0
    compile_model(model, "relu")
    x = np.ones((2, 3), "float32")
    y = np.array([[1, 0], [0, 1]], "float32")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(math.log(2), rel=1e-5)
    for old, new in zip(before, model.get_weights(), strict=True):
        assert np.all(np.isfinite(new))
        np.testing.assert_allclose(old, new)  # no gradient flows through a dead head


def test_ffnn_is_table_2():
    model = build_ffnn(256, 10, "softmax")
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.count_params() for layer in dense] == [131584, 262656, 262656, 5130]
    assert sum(isinstance(layer, keras.layers.Dropout) for layer in model.layers) == 3
    assert model.layers[-1].activation.__name__ == "softmax"
    assert build_ffnn(30, 2, "relu", hidden=(64, 32)).layers[-1].activation.__name__ == "relu"


def test_cnn_is_table_1_on_16x16_and_runs_on_28x28():
    model = build_cnn((16, 16, 1), 10, "relu")
    shapes = [tuple(layer.output.shape[1:]) for layer in model.layers[1:]]
    assert shapes == [(14, 14, 32), (12, 12, 32), (6, 6, 32), (6, 6, 32), (4, 4, 64), (2, 2, 64),
                      (1, 1, 64), (1, 1, 64), (64,), (256,), (256,), (10,)]
    assert [layer.count_params() for layer in model.layers[1:]] == [
        320, 9248, 0, 0, 18496, 36928, 0, 0, 0, 16640, 0, 2570]
    raw = build_cnn((28, 28, 1), 10, "softmax")
    assert raw.predict(np.zeros((2, 28, 28, 1), "float32"), verbose=0).shape == (2, 10)
