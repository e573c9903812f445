"""Where training data comes from: scikit-learn's bundled datasets, CSV files and NPZ files.

Every source ends in the same :class:`Dataset`: a float64 feature matrix ``X`` of shape
(n, d), integer labels ``y`` in 0..K-1, and ``classes``, the original label of each integer
(an int, float or str, so it can be written to JSON). Everything a user can get wrong (a
missing file, a non-numeric cell, an empty file, a single class) raises :class:`DataError`
with a message that names the file, line and column where there is one.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np

#: Datasets that scikit-learn ships inside its package (no network needed).
SKLEARN_DATASETS = ("digits", "iris", "wine", "breast_cancer")


class DataError(ValueError):
    """A dataset could not be loaded or is unusable; the message says why and where."""


@dataclass
class Dataset:
    """Features, integer labels and the original class labels of one dataset.

    Attributes:
        X: float64 array (n, d).
        y: int64 array (n,), values in 0..len(classes)-1.
        classes: original label of each class index (int, float or str), sorted.
        feature_names: one name per column of X.
        name: what the user asked for ("digits", or the path given).
        target: the label column's name for CSV files, else None.
    """

    X: np.ndarray
    y: np.ndarray
    classes: list
    feature_names: list = field(default_factory=list)
    name: str = ""
    target: str | None = None

    @property
    def n_features(self) -> int:
        return self.X.shape[1]

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def fingerprint(self) -> str:
        """SHA-256 of X, the labels and the class list: tells whether two loads are the same data."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.X, dtype=np.float64).tobytes())
        h.update(np.ascontiguousarray(self.y, dtype=np.int64).tobytes())
        h.update(repr(self.classes).encode())
        return h.hexdigest()

    def relabel(self, classes: list) -> "Dataset":
        """The same rows with labels re-indexed to another class list (a saved model's).

        Raises:
            DataError: a label of this data is not in ``classes``.
        """
        index = {c: k for k, c in enumerate(classes)}
        mapping = np.empty(len(self.classes), dtype=np.int64)
        for k, c in enumerate(self.classes):
            if c not in index:
                raise DataError(
                    f"{self.name}: label {c!r} is not one of the model's classes "
                    f"{_short_list(classes)}")
            mapping[k] = index[c]
        return Dataset(self.X, mapping[self.y], list(classes), self.feature_names,
                       self.name, self.target)


def load_dataset(name: str, target: str | None = None, min_classes: int = 2) -> Dataset:
    """Load a dataset by name ("digits", "iris", "wine", "breast_cancer") or by file path.

    Args:
        name: a scikit-learn dataset name, or a path ending in .csv or .npz.
        target: CSV only: the label column, by header name or 0-based index (default: last).
        min_classes: refuse data with fewer distinct labels than this (2 for training,
            1 when evaluating a saved model).

    Returns:
        A :class:`Dataset`.

    Example:
        >>> ds = load_dataset("iris")
        >>> ds.X.shape, ds.classes
        ((150, 4), [0, 1, 2])
    """
    if not isinstance(name, str) or not name:
        raise DataError("no dataset given")
    if target is not None and not name.lower().endswith(".csv"):
        raise DataError(f"--target applies to CSV files only, not to {name!r}")
    lower = name.lower()
    if lower in SKLEARN_DATASETS:
        ds = _load_sklearn(lower)
    elif lower.endswith(".csv"):
        ds = load_csv(name, target)
    elif lower.endswith(".npz"):
        ds = load_npz(name)
    else:
        if os.path.exists(name):
            raise DataError(f"{name}: unsupported file type; use a .csv or .npz file")
        raise DataError(
            f"unknown dataset {name!r}: expected one of {', '.join(SKLEARN_DATASETS)}, "
            "or a path to a .csv or .npz file")
    _validate(ds, min_classes)
    return ds


def _load_sklearn(name: str) -> Dataset:
    from sklearn import datasets  # imported lazily: it takes most of a second

    loader = getattr(datasets, "load_" + name)
    bunch = loader()
    X = np.asarray(bunch.data, dtype=np.float64)
    y_raw = np.asarray(bunch.target)
    y, classes = encode_labels(y_raw)
    names = [str(f) for f in getattr(bunch, "feature_names", [])] or \
        [f"x{j}" for j in range(X.shape[1])]
    return Dataset(X, y, classes, names, name)


def load_csv(path: str, target: str | None = None) -> Dataset:
    """Read a CSV file with a header row; one column holds the labels, the rest are numbers.

    Args:
        path: the file.
        target: label column by header name or 0-based index; default the last column.

    Raises:
        DataError: missing file, empty file, ragged rows, or a feature cell that is not a
            finite number (the message gives the line and the column).
    """
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a directory, not a CSV file") from None
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from None
    with f:
        try:
            rows = list(csv.reader(f))
        except (csv.Error, UnicodeDecodeError) as e:
            raise DataError(f"{path}: not a readable CSV file ({e})") from None
    # Keep the physical line number of every row for error messages; drop blank lines.
    numbered = [(k + 1, r) for k, r in enumerate(rows) if any(c.strip() for c in r)]
    if not numbered:
        raise DataError(f"{path}: the file is empty (expected a header row and data rows)")
    header_line, header = numbered[0]
    header = [h.strip() for h in header]
    data = numbered[1:]
    if not data:
        raise DataError(f"{path}: the dataset is empty (a header row but no data rows)")
    ncol = len(header)
    if ncol < 2:
        raise DataError(f"{path}: need at least two columns (features and a label), "
                        f"found {ncol}")
    t = _target_column(path, header, target)
    feat_cols = [j for j in range(ncol) if j != t]
    X = np.empty((len(data), len(feat_cols)), dtype=np.float64)
    labels = []
    for r, (line, row) in enumerate(data):
        if len(row) != ncol:
            raise DataError(f"{path} line {line}: expected {ncol} fields like the header, "
                            f"found {len(row)}")
        for c, j in enumerate(feat_cols):
            cell = row[j].strip()
            try:
                v = float(cell)
            except ValueError:
                v = None
            if v is None or not math.isfinite(v):
                shown = repr(cell) if cell else "an empty cell"
                raise DataError(f"{path} line {line}, column {j + 1} ({header[j]!r}): "
                                f"feature value {shown} is not a finite number")
            X[r, c] = v
        label = row[t].strip()
        if not label:
            raise DataError(f"{path} line {line}, column {t + 1} ({header[t]!r}): "
                            "the label is empty")
        labels.append(label)
    y, classes = encode_labels(labels)
    return Dataset(X, y, classes, [header[j] for j in feat_cols], path, header[t])


def csv_header(path: str) -> list:
    """The stripped column names of a CSV file's header row (first non-blank line)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            for row in csv.reader(f):
                if any(c.strip() for c in row):
                    return [c.strip() for c in row]
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except (OSError, csv.Error, UnicodeDecodeError) as e:
        raise DataError(f"cannot read {path}: {getattr(e, 'strerror', None) or e}") from None
    return []


def _target_column(path: str, header: list, target: str | None) -> int:
    if target is None:
        return len(header) - 1
    if target in header:
        if header.count(target) > 1:
            raise DataError(f"{path}: the header names column {target!r} more than once")
        return header.index(target)
    try:
        k = int(target)
    except ValueError:
        raise DataError(f"{path}: no column named {target!r}; the header has "
                        f"{_short_list(header)}") from None
    if not -len(header) <= k < len(header):
        raise DataError(f"{path}: column index {k} is out of range for {len(header)} columns")
    return k % len(header)


# What zipfile and NumPy raise for a damaged archive: besides BadZipFile, a corrupt
# deflate stream gives zlib.error, and a flipped byte in a zip header NotImplementedError
# (unknown compression method or zip version) or RuntimeError (the member looks encrypted).
# A header may also declare an array far larger than the file (MemoryError).
_UNREADABLE = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error,
               NotImplementedError, RuntimeError, MemoryError)


_NPZ_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a zip archive's first bytes (empty or not)
_NPY_MAGIC = b"\x93NUMPY"
_PICKLE_MAGIC = b"\x80"  # pickle protocols 2 and later start with PROTO


def open_npz(path: str, error, what: str, not_npz: str):
    """``np.load`` an .npz archive without pickle; every failure is ``error(one line)``.

    The one place where chainrule's loaders open an .npz file (datasets and model files).

    Args:
        path: the file.
        error: the loader's exception class (DataError, ModelFileError).
        what: the kind of file, for "is a directory, not {what}".
        not_npz: the message's head for a file that is not an .npz archive at all
            ("not a chainrule model file"); the reason follows in parentheses.

    Returns:
        The open ``NpzFile`` (use it as a context manager).
    """
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except FileNotFoundError:
        raise error(f"file not found: {path}") from None
    except IsADirectoryError:
        raise error(f"{path} is a directory, not {what}") from None
    except OSError as e:
        raise error(f"cannot read {path}: {e.strerror or e}") from None
    # Decide by the first bytes ourselves: NumPy treats anything else as a pickle and its
    # refusal advises turning pickles on, advice nobody should follow for a file like this.
    if head.startswith(_NPY_MAGIC):
        raise error(f"{path}: {not_npz} (a single .npy array, not an .npz archive)")
    if not head.startswith(_NPZ_MAGIC):
        kind = ("a Python pickle, which chainrule never loads"
                if head.startswith(_PICKLE_MAGIC) else "not an .npz archive")
        raise error(f"{path}: {not_npz} ({kind})")
    try:
        return np.load(path, allow_pickle=False)
    except _UNREADABLE as e:
        raise error(f"{path}: {not_npz} (a damaged .npz archive: {_reason(e)})") from None


def load_npz(path: str) -> Dataset:
    """Read arrays ``X`` (n, d) and ``y`` (n,) from an .npz file, never unpickling anything."""
    z = open_npz(path, DataError, "an .npz file", "not a dataset .npz file")
    with z:
        missing = [k for k in ("X", "y") if k not in z.files]
        if missing:
            raise DataError(f"{path}: missing array {' and '.join(missing)} "
                            f"(found {_short_list(z.files)}); save with np.savez(path, X=X, y=y)")
        try:
            X = z["X"]
            y_raw = z["y"]
        except _UNREADABLE as e:
            raise DataError(f"{path}: cannot read arrays X, y ({_reason(e)})") from None
    if not (isinstance(X, np.ndarray) and isinstance(y_raw, np.ndarray)):
        # NumPy hands back the raw bytes of a member that is not an .npy file
        raise DataError(f"{path}: X and y must be arrays saved with np.savez "
                        "(a member is not an .npy file)")
    if X.ndim != 2:
        raise DataError(f"{path}: X must be 2-D (rows x features), got shape {X.shape}")
    if y_raw.ndim != 1:
        raise DataError(f"{path}: y must be 1-D (one label per row), got shape {y_raw.shape}")
    if len(y_raw) != len(X):
        raise DataError(f"{path}: X has {len(X)} rows but y has {len(y_raw)} labels")
    if X.dtype.kind not in "biuf":  # not complex (the cast would drop the imaginary part)
        raise DataError(f"{path}: X must be real numbers, got dtype {X.dtype}")
    X = X.astype(np.float64)
    bad = np.argwhere(~np.isfinite(X))
    if len(bad):
        i, j = bad[0]
        raise DataError(f"{path}: X[{i}, {j}] = {X[i, j]} is not a finite number")
    if len(y_raw) == 0:
        raise DataError(f"{path}: the dataset is empty (0 rows)")
    y, classes = encode_labels(y_raw)
    return Dataset(X, y, classes, [f"x{j}" for j in range(X.shape[1])], path)


def encode_labels(raw) -> tuple[np.ndarray, list]:
    """Map labels to 0..K-1 and return ``(y, classes)``, classes sorted and JSON-ready.

    Labels that all read as numbers become numbers (integers when integral, so "1", 1.0 and 1
    are the same class); otherwise they stay strings.
    """
    values = _normalise_labels(raw)
    classes = sorted(set(values))
    index = {c: k for k, c in enumerate(classes)}
    y = np.fromiter((index[v] for v in values), dtype=np.int64, count=len(values))
    return y, classes


def _normalise_labels(raw) -> list:
    arr = np.asarray(raw)
    if arr.dtype.kind in "biu":
        return [int(v) for v in arr.tolist()]
    if arr.dtype.kind == "f":
        floats = arr.tolist()
        if not all(math.isfinite(v) for v in floats):
            raise DataError("labels contain NaN or infinity")
        return [_as_number(v) for v in floats]
    strings = [str(v).strip() for v in arr.tolist()]
    numbers = []
    for s in strings:
        try:
            v = float(s)
        except ValueError:
            return strings
        if not math.isfinite(v):
            return strings
        numbers.append(_as_number(v))
    return numbers


def _as_number(v: float):
    return int(v) if float(v).is_integer() else float(v)


def _validate(ds: Dataset, min_classes: int) -> None:
    n, d = ds.X.shape
    if n == 0:
        raise DataError(f"{ds.name}: the dataset is empty (0 rows)")
    if d == 0:
        raise DataError(f"{ds.name}: no feature columns")
    if ds.n_classes < min_classes:
        raise DataError(f"{ds.name}: only one class (label {ds.classes[0]!r}) in {n} rows; "
                        "a classifier needs at least two")


def _short_list(items, limit: int = 8) -> str:
    items = list(items)
    shown = ", ".join(repr(i) for i in items[:limit])
    return "[" + shown + (", ..." if len(items) > limit else "") + "]"


def _reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
