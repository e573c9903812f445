"""Data loading, splitting, standardisation and minibatch order (chainrule.data)."""

import numpy as np
import pytest

from chainrule import data
from chainrule.data import DataError


def write(path, text):
    path.write_text(text)
    return str(path)


# ----- scikit-learn's bundled datasets ----------------------------------------------------
@pytest.mark.parametrize("name, shape, k", [
    ("digits", (1797, 64), 10), ("iris", (150, 4), 3), ("wine", (178, 13), 3),
    ("breast_cancer", (569, 30), 2)])
def test_sklearn_datasets_load_from_disk(name, shape, k):
    ds = data.load_dataset(name)
    assert ds.X.shape == shape and ds.X.dtype == np.float64
    assert ds.n_classes == k and ds.classes == list(range(k))
    assert ds.y.min() == 0 and ds.y.max() == k - 1
    assert len(ds.feature_names) == shape[1]


def test_unknown_dataset_name_lists_the_choices():
    with pytest.raises(DataError, match=r"unknown dataset 'mnist'.*digits, iris"):
        data.load_dataset("mnist")


def test_existing_file_of_unsupported_type(tmp_path):
    p = write(tmp_path / "d.txt", "a,b\n1,2\n")
    with pytest.raises(DataError, match="unsupported file type"):
        data.load_dataset(p)


# ----- CSV ----------------------------------------------------------------------------------
def test_csv_default_target_is_last_column_and_string_labels(tmp_path):
    p = write(tmp_path / "d.csv", "x1,x2,species\n1,2,cat\n3,4,dog\n5,6,cat\n")
    ds = data.load_dataset(p)
    np.testing.assert_array_equal(ds.X, [[1, 2], [3, 4], [5, 6]])
    assert ds.classes == ["cat", "dog"]
    np.testing.assert_array_equal(ds.y, [0, 1, 0])
    assert ds.feature_names == ["x1", "x2"] and ds.target == "species"


def test_csv_target_by_name_and_by_index(tmp_path):
    p = write(tmp_path / "d.csv", "label,a,b\nyes,1,2\nno,3,4\n")
    by_name = data.load_dataset(p, target="label")
    by_index = data.load_dataset(p, target="0")
    for ds in (by_name, by_index):
        np.testing.assert_array_equal(ds.X, [[1, 2], [3, 4]])
        assert ds.classes == ["no", "yes"] and list(ds.y) == [1, 0]
    with pytest.raises(DataError, match="no column named 'kind'"):
        data.load_dataset(p, target="kind")


def test_csv_numeric_labels_are_numbers_and_integral_floats_are_ints(tmp_path):
    p = write(tmp_path / "d.csv", "a,y\n1,1\n2,0.0\n3,1.0\n4,2.5\n")
    ds = data.load_dataset(p)
    assert ds.classes == [0, 1, 2.5]
    assert list(ds.y) == [1, 0, 1, 2]


def test_csv_non_numeric_feature_names_line_and_column(tmp_path):
    p = write(tmp_path / "d.csv", "a,b,y\n1,2,x\n\n3,abc,y\n")
    with pytest.raises(DataError) as e:
        data.load_dataset(p)
    msg = str(e.value)
    assert "line 4" in msg and "column 2" in msg and "'b'" in msg and "'abc'" in msg


@pytest.mark.parametrize("cell", ["", "nan", "inf"])
def test_csv_missing_or_non_finite_feature_is_rejected(tmp_path, cell):
    p = write(tmp_path / "d.csv", f"a,b,y\n1,2,x\n3,{cell},y\n")
    with pytest.raises(DataError, match="line 3, column 2"):
        data.load_dataset(p)


def test_csv_ragged_row(tmp_path):
    p = write(tmp_path / "d.csv", "a,b,y\n1,2,x\n3,y\n")
    with pytest.raises(DataError, match="line 3: expected 3 fields"):
        data.load_dataset(p)


def test_csv_empty_label(tmp_path):
    p = write(tmp_path / "d.csv", "a,y\n1,x\n2, \n")
    with pytest.raises(DataError, match="line 3.*label is empty"):
        data.load_dataset(p)


@pytest.mark.parametrize("text, match", [
    ("", "file is empty"), ("\n\n", "file is empty"), ("a,b,y\n", "dataset is empty"),
    ("y\n1\n2\n", "at least two columns")])
def test_csv_empty(tmp_path, text, match):
    p = write(tmp_path / "d.csv", text)
    with pytest.raises(DataError, match=match):
        data.load_dataset(p)


def test_csv_one_class_only(tmp_path):
    p = write(tmp_path / "d.csv", "a,y\n1,x\n2,x\n")
    with pytest.raises(DataError, match="only one class"):
        data.load_dataset(p)
    assert data.load_dataset(p, min_classes=1).classes == ["x"]


def test_missing_files(tmp_path):
    for name in ("nope.csv", "nope.npz"):
        with pytest.raises(DataError, match="file not found"):
            data.load_dataset(str(tmp_path / name))


# ----- NPZ ----------------------------------------------------------------------------------
def test_npz_roundtrip_with_string_labels(tmp_path):
    p = str(tmp_path / "d.npz")
    np.savez(p, X=np.arange(8.0).reshape(4, 2), y=np.array(["b", "a", "b", "a"]))
    ds = data.load_dataset(p)
    assert ds.X.shape == (4, 2) and ds.classes == ["a", "b"] and list(ds.y) == [1, 0, 1, 0]


def test_npz_never_unpickles(tmp_path):
    p = str(tmp_path / "d.npz")
    np.savez(p, X=np.zeros((2, 2)), y=np.array([object(), object()], dtype=object))
    with pytest.raises(DataError, match="cannot read arrays"):
        data.load_dataset(p)


@pytest.mark.parametrize("arrays, match", [
    ({"X": np.zeros((3, 2))}, "missing array y"),
    ({"X": np.zeros(3), "y": np.arange(3)}, "X must be 2-D"),
    ({"X": np.zeros((3, 2)), "y": np.arange(2)}, "3 rows but y has 2"),
    ({"X": np.zeros((0, 2)), "y": np.zeros(0, int)}, "empty"),
    ({"X": np.array([[1.0, np.nan], [0, 0]]), "y": np.arange(2)}, "not a finite number"),
])
def test_npz_bad_contents(tmp_path, arrays, match):
    p = str(tmp_path / "d.npz")
    np.savez(p, **arrays)
    with pytest.raises(DataError, match=match):
        data.load_dataset(p)


def test_npz_not_a_zip(tmp_path):
    p = tmp_path / "d.npz"
    p.write_bytes(b"this is not a zip archive")
    with pytest.raises(DataError, match=r"not a dataset \.npz file \(not an \.npz archive\)"):
        data.load_dataset(str(p))


# ----- labels -----------------------------------------------------------------------------
def test_relabel_maps_to_a_models_classes_and_rejects_unknown_labels():
    ds = data.Dataset(np.zeros((3, 1)), np.array([0, 1, 0]), ["a", "b"], name="t")
    again = ds.relabel(["c", "b", "a"])
    assert list(again.y) == [2, 1, 2]
    with pytest.raises(DataError, match="label 'a' is not one of the model's classes"):
        ds.relabel(["b", "c"])


def test_fingerprint_distinguishes_data():
    a = data.Dataset(np.zeros((2, 1)), np.array([0, 1]), [0, 1])
    b = data.Dataset(np.zeros((2, 1)), np.array([1, 0]), [0, 1])
    assert a.fingerprint() == data.Dataset(a.X.copy(), a.y.copy(), [0, 1]).fingerprint()
    assert a.fingerprint() != b.fingerprint()


# ----- split --------------------------------------------------------------------------------
def test_split_is_a_stratified_seeded_partition():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    tr, te = data.train_test_split(y, 0.2, seed=3)
    assert np.array_equal(np.sort(np.concatenate([tr, te])), np.arange(100))
    assert [int(np.sum(y[te] == c)) for c in range(3)] == [10, 6, 4]
    tr2, te2 = data.train_test_split(y, 0.2, seed=3)
    assert np.array_equal(te, te2) and np.array_equal(tr, tr2)
    assert not np.array_equal(te, data.train_test_split(y, 0.2, seed=4)[1])


def test_split_keeps_a_training_example_of_every_class_and_needs_a_test_set():
    y = np.array([0, 1, 1, 1, 1])
    tr, te = data.train_test_split(y, 0.5, seed=0)
    assert 0 in y[tr]
    with pytest.raises(DataError, match="too few rows"):
        data.train_test_split(np.array([0, 1]), 0.2, seed=0)
    with pytest.raises(DataError, match="between 0 and 1"):
        data.train_test_split(y, 1.0)


# ----- standardisation ----------------------------------------------------------------------
def test_standardizer_is_fitted_on_the_rows_it_is_given_only():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 2.0, size=(200, 3))
    X[:, 2] = 7.0  # a constant column
    train, test = X[:150], X[150:] + 10.0
    s = data.Standardizer().fit(train)
    Z = s.transform(train)
    np.testing.assert_allclose(Z[:, :2].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :2].std(0), 1, atol=1e-12)
    np.testing.assert_array_equal(Z[:, 2], 0.0)  # constant: shifted, not divided by zero
    assert s.scale[2] == 1.0
    assert np.all(s.transform(test)[:, :2].mean(0) > 3)  # test rows did not move the fit
    with pytest.raises(DataError, match="expected data with 3 features"):
        s.transform(np.zeros((2, 4)))


# ----- minibatches --------------------------------------------------------------------------
def test_batch_size_one_samples_uniformly_with_replacement():
    rng = np.random.default_rng(0)
    steps = list(data.minibatches(50, 1, rng))
    assert len(steps) == 50 and all(s.shape == (1,) for s in steps)
    drawn = np.concatenate(steps)
    assert drawn.min() >= 0 and drawn.max() < 50
    assert len(np.unique(drawn)) < 50  # with replacement: 50 draws of 50 repeat (p ~ 1)
    counts = np.bincount(np.concatenate(
        [np.concatenate(list(data.minibatches(10, 1, rng))) for _ in range(2000)]), minlength=10)
    assert counts.min() > 1800 and counts.max() < 2200  # uniform: 2000 expected each


def test_shuffled_minibatches_visit_every_row_once_per_epoch():
    rng = np.random.default_rng(0)
    batches = list(data.minibatches(10, 4, rng))
    assert [len(b) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate(batches)) == list(range(10))
    again = list(data.minibatches(10, 4, np.random.default_rng(0)))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    forced = list(data.minibatches(10, 1, rng, replace=False))
    assert sorted(np.concatenate(forced)) == list(range(10))
