"""Data for training: loading datasets (scikit-learn's bundled ones, CSV, NPZ), a seeded
stratified split, standardisation fitted on the training rows, and minibatch order.

Example:
    >>> from chainrule import data
    >>> ds = data.load_dataset("iris")
    >>> train_idx, test_idx = data.train_test_split(ds.y, test_fraction=0.2, seed=0)
    >>> scaler = data.Standardizer().fit(ds.X[train_idx])
    >>> X_train = scaler.transform(ds.X[train_idx])
"""

from .preprocess import Standardizer, minibatches, train_test_split
from .sources import (SKLEARN_DATASETS, DataError, Dataset, csv_header, encode_labels,
                      load_csv, load_dataset, load_npz)

__all__ = [
    "SKLEARN_DATASETS", "DataError", "Dataset", "Standardizer", "csv_header", "encode_labels",
    "load_csv", "load_dataset", "load_npz", "minibatches", "train_test_split",
]
