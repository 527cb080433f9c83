"""The data the tracking tests train on: scikit-learn's digits and diabetes, split once."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split


class Split(NamedTuple):
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


@pytest.fixture(scope="session")
def digits() -> Split:
    X, y = load_digits(return_X_y=True)
    return Split(*train_test_split(X, y, test_size=0.25, random_state=0))


@pytest.fixture(scope="session")
def diabetes() -> Split:
    X, y = load_diabetes(return_X_y=True)
    return Split(*train_test_split(X, y, test_size=0.25, random_state=0))
