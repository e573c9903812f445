"""Every file chainrule reads: model files (.npz), datasets (.npz, .csv).

What is held (docs/reliability.md, "Files"):

- Nothing is ever unpickled: every np.load in the package passes allow_pickle=False, and
  a pickle (raw, or an object array inside an .npz) is refused with a clear error without
  running its code.
- A truncated, corrupt or foreign file gives the loader's own error (ModelFileError,
  DataError: ValueError subclasses that name the file and the problem), never another
  exception. A file that still loads after damage to an .npz is the original one (zip's
  CRC-32 covers every member); CSV has no checksum, so a damaged CSV may load as different
  data, but never crashes the loader.

Byte flips are sampled here; CHAINRULE_FUZZ_FILES=all flips every byte with three
masks (about a minute).
"""
import io
import os
import pathlib
import pickle
import re
import zipfile

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataError, load_csv, load_dataset, load_npz
from chainrule.nn import ModelFileError, load_model, save_model

FULL = os.environ.get("CHAINRULE_FUZZ_FILES", "") == "all"
SRC = pathlib.Path(cr.__file__).parent


# ----- the files ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("files")
    model = cr.nn.MLP([4, 8, 3], seed=0)
    save_model(str(d / "model.npz"), model, classes=["a", "b", "c"], mean=np.arange(4.0),
               scale=np.full(4, 2.0), feature_names=["w", "x", "y", "z"])
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 3)), np.array([0, 1, 2, 0, 1, 2])
    np.savez(d / "data.npz", X=X, y=y)
    np.savez_compressed(d / "data_compressed.npz", X=X, y=y)
    with open(d / "data.csv", "w") as f:
        f.write("a,b,c,label\n")
        for row, label in zip(X, "xyzxyz"):
            f.write(",".join(f"{v:.4f}" for v in row) + f",{label}\n")
    return d


def _model_equal(a, b):
    (ma, meta_a, mean_a, scale_a), (mb, meta_b, mean_b, scale_b) = a, b
    pa, pb = ma.parameters(), mb.parameters()
    return (pa.keys() == pb.keys() and meta_a == meta_b
            and all(np.array_equal(pa[k].value, pb[k].value) for k in pa)
            and np.array_equal(mean_a, mean_b) and np.array_equal(scale_a, scale_b))


def _data_equal(a, b):
    return np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y) and a.classes == b.classes


KINDS = {
    # name: (file, loader, its error, equality of two loads, damage is always detected)
    "model": ("model.npz", load_model, ModelFileError, _model_equal, True),
    "npz": ("data.npz", load_npz, DataError, _data_equal, True),
    "npz compressed": ("data_compressed.npz", load_npz, DataError, _data_equal, True),
    "csv": ("data.csv", load_csv, DataError, _data_equal, False),
}


def _outcome(path, data, kind, ref):
    """'same', 'different' (loaded, not equal to the original) or 'error' (the clear one)."""
    _, loader, error, equal, _ = KINDS[kind]
    path.write_bytes(data)
    try:
        got = loader(str(path))
    except error as e:
        assert str(path) in str(e), f"the message should name the file: {e}"
        return "error"
    return "same" if equal(got, ref) else "different"


# ----- no pickle, ever ------------------------------------------------------------------
def test_every_np_load_in_the_package_refuses_pickles():
    calls = 0
    for py in SRC.rglob("*.py"):
        text = py.read_text()
        assert "allow_pickle=True" not in text, py
        assert not re.search(r"^\s*(import pickle|from pickle|import dill|import joblib)",
                             text, re.M), py
        for m in re.finditer(r"np\.load\(([^)]*)\)", text):
            calls += 1
            assert "allow_pickle=False" in m.group(1), f"{py}: np.load({m.group(1)})"
    assert calls >= 1  # data.sources.open_npz: load_model and load_npz both open through it


def test_loading_does_not_use_pickle(files, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("pickle used while loading")
    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    load_model(str(files / "model.npz"))
    load_npz(str(files / "data.npz"))
    load_csv(str(files / "data.csv"))
    load_dataset(str(files / "data_compressed.npz"))


class _Evil:
    """Unpickling this creates a file: proof that code ran."""
    marker = None

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("form", ["raw pickle", "object array in npz"])
@pytest.mark.parametrize("kind", ["model", "npz"])
def test_pickles_are_refused_without_running_them(tmp_path, form, kind):
    _Evil.marker = str(tmp_path / "PWNED")
    path = tmp_path / "evil.npz"
    if form == "raw pickle":
        path.write_bytes(pickle.dumps(_Evil()))
    else:
        evil = np.empty(1, dtype=object)
        evil[0] = _Evil()
        arrays = {"X": evil, "y": np.zeros(1)} if kind == "npz" else {"meta": evil}
        np.savez(path, **arrays)
    _, loader, error, _, _ = KINDS[kind]
    with pytest.raises(error, match="pickle|[Oo]bject arrays"):
        loader(str(path))
    assert not os.path.exists(_Evil.marker)


# ----- truncation and corruption -----------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_truncation(files, tmp_path, kind):
    name, loader, _, _, detected = KINDS[kind]
    good = (files / name).read_bytes()
    ref = loader(str(files / name))
    results = [_outcome(tmp_path / ("cut" + pathlib.Path(name).suffix), good[:n], kind, ref)
               for n in range(len(good))]
    outcomes = set(results)
    print(f"\n{kind} ({len(good)} bytes), every truncation: "
          + ", ".join(f"{k} {results.count(k)}" for k in ("error", "different", "same")))
    if detected:
        assert outcomes == {"error"}
    else:  # CSV: a cut at a line end is a shorter, valid file
        assert "error" in outcomes


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_byte_flips(files, tmp_path, kind):
    name, loader, _, _, detected = KINDS[kind]
    good = (files / name).read_bytes()
    ref = loader(str(files / name))
    rng = np.random.default_rng(7)
    positions = range(len(good)) if FULL else rng.choice(len(good), min(len(good), 400),
                                                         replace=False)
    masks = (0x01, 0x80, 0xFF) if FULL else (0xFF,)
    counts = {"same": 0, "different": 0, "error": 0}
    path = tmp_path / ("flip" + pathlib.Path(name).suffix)
    for pos in positions:
        for mask in masks:
            bad = bytearray(good)
            bad[pos] ^= mask
            counts[_outcome(path, bytes(bad), kind, ref)] += 1
    print(f"\n{kind} ({len(good)} bytes), {sum(counts.values())} byte flips: "
          + ", ".join(f"{k} {v}" for k, v in counts.items()))
    assert counts["error"] > 0
    if detected:  # zip's CRC-32: damage either fails loudly or hit unused bytes
        assert counts["different"] == 0, counts


# ----- foreign files ------------------------------------------------------------------------
def _zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    return buf.getvalue()


def _npy_header(shape, descr="<f8"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _model_with(files, **replace):
    """The saved model file with some members replaced (bytes) or removed (None)."""
    with zipfile.ZipFile(files / "model.npz") as z:
        members = {n: z.read(n) for n in z.namelist()}
    for k, v in replace.items():
        k = k.replace("__", ":") + ".npy"
        if v is None:
            del members[k]
        else:
            members[k] = v
    return _zip(members)


def _npy(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
HUGE = _npy_header((10 ** 6, 10 ** 6))  # a header declaring 7 TiB, and no data

FOREIGN_MODEL = {
    "empty file": (lambda f: b"", "not a chainrule model file (not an .npz archive)"),
    "text": (lambda f: b"hello, world\n", "not a chainrule model file (not an .npz archive)"),
    "png": (lambda f: PNG, "not a chainrule model file (not an .npz archive)"),
    "a .npy array": (lambda f: _npy(np.zeros(3)), "single .npy"),
    "a dataset .npz": (lambda f: (f / "data.npz").read_bytes(), "without chainrule metadata"),
    "a zip of text files": (lambda f: _zip({"meta.npy": b"hi", "a.txt": b"x"}),
                            "not a NumPy array"),
    "meta not JSON": (lambda f: _model_with(f, meta=_npy(np.array("{oops"))), "not valid JSON"),
    "meta not text": (lambda f: _model_with(f, meta=_npy(np.zeros(2))), "not text"),
    "another format": (lambda f: _model_with(f, meta=_npy(np.array('{"format": "x"}'))),
                       "format is 'x'"),
    "a future version": (lambda f: _model_with(f, meta=_npy(np.array(
        '{"format": "chainrule-model", "version": 99}'))), "version 99"),
    "a missing parameter": (lambda f: _model_with(f, param__W=None), "'W' is missing"),
    "a parameter of the wrong shape": (lambda f: _model_with(f, param__W=_npy(np.zeros(2))),
                                       "parameter 'W' has shape"),
    "integer parameters": (lambda f: _model_with(f, param__b=_npy(np.zeros(8, int))), "floats"),
    "a parameter not .npy": (lambda f: _model_with(f, param__W=b"junk"), "not a NumPy array"),
    "a parameter declaring 7 TiB": (lambda f: _model_with(f, param__W=HUGE), "corrupt"),
    "a zero scale": (lambda f: _model_with(f, **{"preprocess__scale": _npy(np.zeros(4))}),
                     "non-positive"),
}

FOREIGN_NPZ = {
    "empty file": (lambda f: b"", "not a dataset .npz file (not an .npz archive)"),
    "png": (lambda f: PNG, "not a dataset .npz file (not an .npz archive)"),
    "a .npy array": (lambda f: _npy(np.zeros(3)), "single .npy array"),
    "a model file": (lambda f: (f / "model.npz").read_bytes(), "missing array X and y"),
    "members not .npy": (lambda f: _zip({"X.npy": b"hello", "y.npy": b"world"}),
                         "not an .npy file"),
    "X declaring 7 TiB": (lambda f: _zip({"X.npy": HUGE, "y.npy": _npy(np.zeros(3))}),
                          "cannot read"),
    "X of strings": (lambda f: _npz(X=np.array([["a"]]), y=np.zeros(1)), "real numbers"),
    "X complex": (lambda f: _npz(X=np.ones((2, 1)) * 1j, y=np.arange(2)), "real numbers"),
    "X structured": (lambda f: _npz(X=np.zeros((2, 2), dtype=[("a", "f8")]), y=np.arange(2)),
                     "real numbers"),
    "X 1-D": (lambda f: _npz(X=np.zeros(3), y=np.arange(3)), "2-D"),
    "y 2-D": (lambda f: _npz(X=np.zeros((3, 1)), y=np.zeros((3, 1))), "1-D"),
    "lengths differ": (lambda f: _npz(X=np.zeros((3, 1)), y=np.arange(2)), "3 rows but y"),
    "X with NaN": (lambda f: _npz(X=np.array([[np.nan], [1.0]]), y=np.arange(2)), "finite"),
    "no rows": (lambda f: _npz(X=np.zeros((0, 2)), y=np.zeros(0)), "empty"),
    "one class": (lambda f: _npz(X=np.zeros((2, 1)), y=np.zeros(2)), "one class"),
}

FOREIGN_CSV = {
    "empty file": (lambda f: b"", "empty"),
    "blank lines": (lambda f: b"\n \n\n", "empty"),
    "header only": (lambda f: b"a,b,label\n", "no data rows"),
    "png": (lambda f: PNG, "not a readable CSV"),
    "an .npz renamed": (lambda f: (f / "model.npz").read_bytes(), "not a readable CSV"),
    "latin-1 text": (lambda f: "a,label\n1,caf\xe9\n2,x\n".encode("latin-1"),
                     "not a readable CSV"),
    "utf-16 text": (lambda f: "a,label\n1,x\n2,y\n".encode("utf-16"), "not a readable CSV"),
    "a NUL byte": (lambda f: b"a,b,label\n1,\x002,x\n3,4,y\n", "line 2, column 2"),
    "a field over the csv limit": (lambda f: b"a,label\n" + b"9" * 200000 + b",x\n",
                                   "not a readable CSV"),
    "one column": (lambda f: b"a\n1\n2\n", "at least two columns"),
    "a ragged row": (lambda f: b"a,b,label\n1,2\n3,4,y\n", "line 2: expected 3 fields"),
    "an open quote": (lambda f: b'a,b,label\n1,"2,x\n3,4,y\n', "expected 3 fields"),
    "a word in a number column": (lambda f: b"a,label\n1,x\nten,y\n", "line 3, column 1"),
    "an infinite value": (lambda f: b"a,label\n1e400,x\n2,y\n", "not a finite number"),
    "an empty label": (lambda f: b"a,label\n1,\n2,y\n", "the label is empty"),
    "one class": (lambda f: b"a,label\n1,x\n2,x\n", "one class"),
}


@pytest.mark.parametrize("case", sorted(FOREIGN_MODEL))
def test_foreign_model_files(files, tmp_path, case):
    make, message = FOREIGN_MODEL[case]
    path = tmp_path / "model.npz"
    path.write_bytes(make(files))
    with pytest.raises(ModelFileError, match=re.escape(message)):
        load_model(str(path))


@pytest.mark.parametrize("case", sorted(FOREIGN_NPZ))
def test_foreign_dataset_npz(files, tmp_path, case):
    make, message = FOREIGN_NPZ[case]
    path = tmp_path / "data.npz"
    path.write_bytes(make(files))
    with pytest.raises(DataError, match=re.escape(message)):
        load_dataset(str(path))


@pytest.mark.parametrize("case", sorted(FOREIGN_CSV))
def test_foreign_dataset_csv(files, tmp_path, case):
    make, message = FOREIGN_CSV[case]
    path = tmp_path / "data.csv"
    path.write_bytes(make(files))
    with pytest.raises(DataError, match=re.escape(message)):
        load_dataset(str(path))


@pytest.mark.parametrize("loader,error", [(load_model, ModelFileError), (load_npz, DataError),
                                          (load_csv, DataError)])
def test_missing_file_and_directory(tmp_path, loader, error):
    with pytest.raises(error, match="not found"):
        loader(str(tmp_path / "nope.npz"))
    with pytest.raises(error, match="directory"):
        loader(str(tmp_path))


def test_unsupported_extension(tmp_path):
    p = tmp_path / "data.txt"
    p.write_text("a,label\n1,x\n")
    with pytest.raises(DataError, match="unsupported file type"):
        load_dataset(str(p))


def test_round_trips_are_exact(files):
    """The undamaged files load as what was saved (the baseline of the checks above)."""
    model, meta, mean, scale = load_model(str(files / "model.npz"))
    assert meta["classes"] == ["a", "b", "c"] and meta["feature_names"] == list("wxyz")
    np.testing.assert_array_equal(mean, np.arange(4.0))
    np.testing.assert_array_equal(scale, np.full(4, 2.0))
    a, b = load_npz(str(files / "data.npz")), load_npz(str(files / "data_compressed.npz"))
    assert _data_equal(a, b) and a.X.shape == (6, 3) and a.classes == [0, 1, 2]
    c = load_csv(str(files / "data.csv"))
    np.testing.assert_allclose(c.X, a.X, atol=1e-4)
    assert c.classes == ["x", "y", "z"]
