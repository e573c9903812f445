"""The ``chainrule`` command line: train and evaluate end to end, and every bad input."""

import contextlib
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule
from chainrule import cli


def run(argv, capsys):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc, err, *words):
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error:" in lines[0]
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture
def csv_file(tmp_path):
    return make_csv(tmp_path)


def make_csv(tmp_path):
    """Three well separated classes with string labels, label column in the middle."""
    rng = np.random.default_rng(0)
    names = np.array(["ant", "bee", "cat"])
    y = np.repeat([0, 1, 2], 30)
    X = np.array([[4, 0, 0], [0, 4, 0], [0, 0, 4]])[y] + rng.normal(size=(90, 3))
    p = tmp_path / "small.csv"
    lines = ["f1,kind,f2,f3"] + [f"{a:.4f},{names[k]},{b:.4f},{c:.4f}"
                                 for (a, b, c), k in zip(X, y)]
    p.write_text("\n".join(lines) + "\n")
    return str(p)


def train_args(csv_file, out, *more):
    return ["train", "--dataset", csv_file, "--target", "kind", "--hidden", "8",
            "--epochs", "3", "--lr", "0.05", "--out", str(out), "--no-progress", *more]


# ----- end to end ---------------------------------------------------------------------------
def test_train_then_evaluate_a_small_csv(tmp_path, csv_file, capsys):
    out = tmp_path / "run"
    rc, stdout, err = run(train_args(csv_file, out), capsys)
    assert rc == 0, err
    assert sorted(os.listdir(out)) == ["curves.png", "metrics.json", "model.npz"]
    assert [n for n in os.listdir(tmp_path) if "partial" in n] == []
    for e in (1, 2, 3):
        assert f"epoch {e}/3  train loss" in stdout
    assert "test accuracy" in stdout

    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("train_loss", "test_loss", "test_accuracy"):
        assert len(metrics[key]) == 3 and all(np.isfinite(metrics[key]))
    assert metrics["config"]["batch_size"] == 1 and metrics["config"]["hidden"] == [8]
    assert metrics["data"]["classes"] == ["ant", "bee", "cat"]
    assert metrics["test_accuracy"][-1] > 0.9
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    with np.load(out / "model.npz", allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        assert z["param:W"].shape == (8, 3) and z["param:V"].shape == (3, 8)
    assert meta["architecture"]["sizes"] == [3, 8, 3]
    assert meta["classes"] == ["ant", "bee", "cat"]
    assert meta["feature_names"] == ["f1", "f2", "f3"]

    rc, ev, err = run(["evaluate", str(out / "model.npz")], capsys)
    assert rc == 0, err
    acc = f"{100 * metrics['test_accuracy'][-1]:.2f}%"
    assert f"accuracy {acc}" in ev and f"test accuracy {acc}" in stdout
    assert f"loss {metrics['test_loss'][-1]:.4f}" in ev
    assert "the test split, 18 of 90 rows" in ev
    assert "confusion matrix" in ev and "ant" in ev

    rc, ev_all, _ = run(["evaluate", str(out / "model.npz"), "--split", "all"], capsys)
    assert rc == 0 and "all 90 rows" in ev_all


def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path, csv_file, capsys):
    files = []
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        assert run(train_args(csv_file, tmp_path / name, "--seed", seed), capsys)[0] == 0
        files.append((tmp_path / name / "metrics.json").read_text())
    assert files[0] == files[1]
    assert files[0] != files[2]


@pytest.mark.parametrize("extra", [
    ["--optimizer", "adam", "--lr", "0.01"],
    ["--optimizer", "momentum", "--nesterov", "--schedule", "step", "--weight-decay", "1e-4"],
    ["--batch-size", "8", "--schedule", "inverse-time", "--hidden", "6", "5",
     "--activation", "relu", "--epochs", "20", "--lr", "0.1"],
    ["--hidden"],  # no hidden layer: softmax regression
])
def test_train_options(tmp_path, csv_file, capsys, extra):
    rc, _, err = run(train_args(csv_file, tmp_path / "r", *extra), capsys)
    assert rc == 0, err
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert metrics["test_accuracy"][-1] > 0.8


def test_default_out_is_a_new_folder_under_runs(tmp_path, csv_file, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [a for a in train_args(csv_file, "x") if a not in ("--out", "x")]
    assert run(args, capsys)[0] == 0
    assert run(args, capsys)[0] == 0
    runs = sorted(os.listdir(tmp_path / "runs"))
    assert len(runs) == 2 and all(r.startswith("small-") for r in runs)


def test_subprocess_train_and_error(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(chainrule.__file__)))
    ok = subprocess.run([sys.executable, "-m", "chainrule.cli", "train", "--dataset", "iris",
                         "--epochs", "2", "--hidden", "8", "--out", str(tmp_path / "r")],
                        capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "epoch 2/2" in ok.stdout and (tmp_path / "r" / "model.npz").exists()
    bad = subprocess.run([sys.executable, "-m", "chainrule.cli", "train", "--dataset",
                          str(tmp_path / "missing.csv")],
                         capture_output=True, text=True, env=env, timeout=120)
    assert_one_line_error(bad.returncode, bad.stderr, "file not found")


# ----- bad input: one line on stderr, exit status 2, no output folder ----------------------
def check_train_fails(tmp_path, capsys, argv, *words):
    out = tmp_path / "out"
    rc, _, err = run(["train", *argv, "--out", str(out), "--no-progress", "--epochs", "1"],
                     capsys)
    assert_one_line_error(rc, err, *words)
    assert not out.exists()
    assert [n for n in os.listdir(tmp_path) if "partial" in n] == []


def test_missing_file(tmp_path, capsys):
    check_train_fails(tmp_path, capsys, ["--dataset", str(tmp_path / "nope.csv")],
                      "file not found")


def test_non_numeric_csv_feature(tmp_path, capsys):
    p = tmp_path / "d.csv"
    p.write_text("a,b,y\n1,2,x\n3,4,y\n5,six,x\n")
    check_train_fails(tmp_path, capsys, ["--dataset", str(p)], "line 4", "column 2", "'six'")


def test_empty_dataset(tmp_path, capsys):
    p = tmp_path / "d.csv"
    p.write_text("a,b,y\n")
    check_train_fails(tmp_path, capsys, ["--dataset", str(p)], "empty")
    q = tmp_path / "e.npz"
    np.savez(q, X=np.zeros((0, 2)), y=np.zeros(0))
    check_train_fails(tmp_path, capsys, ["--dataset", str(q)], "empty")


def test_one_class_only(tmp_path, capsys):
    p = tmp_path / "d.csv"
    p.write_text("a,y\n1,x\n2,x\n3,x\n")
    check_train_fails(tmp_path, capsys, ["--dataset", str(p)], "only one class")


def test_unknown_dataset_name(tmp_path, capsys):
    check_train_fails(tmp_path, capsys, ["--dataset", "mnist"], "unknown dataset 'mnist'")


@pytest.mark.parametrize("argv, words", [
    (["--epochs", "0"], ["--epochs", "positive"]),
    (["--epochs", "-3"], ["--epochs", "positive"]),
    (["--epochs", "two"], ["--epochs"]),
    (["--lr", "0"], ["--lr", "positive"]),
    (["--lr", "-0.1"], ["--lr", "positive"]),
    (["--lr", "nan"], ["--lr"]),
    (["--batch-size", "0"], ["--batch-size"]),
    (["--hidden", "0"], ["--hidden"]),
    (["--test-fraction", "1"], ["--test-fraction"]),
    (["--activation", "gelu"], ["--activation", "gelu"]),
    (["--optimizer", "rmsprop"], ["--optimizer"]),
    (["--nesterov"], ["--nesterov needs --optimizer momentum"]),
    (["--bogus"], ["--bogus"]),
])
def test_bad_options(tmp_path, capsys, argv, words):
    out = tmp_path / "out"
    rc, _, err = run(["train", "--out", str(out), "--no-progress", *argv], capsys)
    assert_one_line_error(rc, err, *words)
    assert err.startswith("chainrule train: error:")
    assert not out.exists()


def test_out_folder_that_is_not_empty(tmp_path, csv_file, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    rc, _, err = run(train_args(csv_file, out), capsys)
    assert_one_line_error(rc, err, "not empty")
    assert os.listdir(out) == ["keep.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(train_args(csv_file, empty), capsys)[0] == 0
    assert (empty / "model.npz").exists()


def test_failure_while_writing_leaves_no_folder(tmp_path, csv_file, capsys, monkeypatch):
    def broken(metrics, path):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(cli, "plot_curves", broken)
    out = tmp_path / "run"
    rc, _, err = run(train_args(csv_file, out), capsys)
    assert_one_line_error(rc, err, "No space left")
    assert not out.exists()
    assert os.listdir(tmp_path) == ["small.csv"]


def test_diverging_training_is_reported(tmp_path, capsys):
    rc, _, err = run(["train", "--dataset", "iris", "--hidden", "16", "--activation", "relu",
                      "--lr", "1e6", "--epochs", "2", "--out", str(tmp_path / "o"),
                      "--no-progress"], capsys)
    assert_one_line_error(rc, err, "diverged", "smaller --lr")
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("model")
    out = tmp / "m"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(train_args(make_csv(tmp), out, "--epochs", "1")) == 0
    return str(out / "model.npz")


def test_evaluate_on_data_of_the_wrong_width(tmp_path, model_file, capsys):
    rc, _, err = run(["evaluate", model_file, "--dataset", "iris"], capsys)
    assert_one_line_error(rc, err, "expects 3 features", "has 4")


def test_evaluate_with_labels_the_model_does_not_know(tmp_path, model_file, capsys):
    p = tmp_path / "other.csv"
    p.write_text("f1,f2,f3,kind\n1,2,3,ant\n1,2,3,dog\n")
    rc, _, err = run(["evaluate", model_file, "--dataset", str(p)], capsys)
    assert_one_line_error(rc, err, "'dog'", "not one of the model's classes")


def test_evaluate_other_csv_scores_all_rows(tmp_path, model_file, capsys):
    p = tmp_path / "other.csv"
    p.write_text("f1,kind,f2,f3\n4,ant,0,0\n0,cat,0,4\n")  # the training run's label column
    rc, out, err = run(["evaluate", model_file, "--dataset", str(p)], capsys)
    assert rc == 0, err
    assert "all 2 rows" in out and "accuracy 100.00% (2/2)" in out


@pytest.mark.parametrize("kind", ["missing", "junk", "foreign", "truncated", "pickled"])
def test_evaluate_bad_model_files(tmp_path, model_file, capsys, kind):
    p = tmp_path / "bad.npz"
    if kind == "junk":
        p.write_bytes(b"definitely not numpy" * 20)
    elif kind == "foreign":
        np.savez(p, weights=np.ones(3))
    elif kind == "truncated":
        data = open(model_file, "rb").read()
        p.write_bytes(data[: len(data) * 2 // 3])
    elif kind == "pickled":
        np.savez(p, meta=np.array([{"format": "chainrule-model"}], dtype=object))
    rc, _, err = run(["evaluate", str(p), "--dataset", "iris"], capsys)
    assert_one_line_error(rc, err, "bad.npz")


def test_evaluate_needs_a_model_argument(capsys):
    rc, _, err = run(["evaluate"], capsys)
    assert_one_line_error(rc, err, "MODEL.npz")


# ----- the command itself ---------------------------------------------------------------------
def test_help_and_no_command(capsys):
    assert run(["--help"], capsys)[0] == 0
    rc, out, _ = run(["train", "--help"], capsys)
    assert rc == 0 and "--batch-size" in out and "--schedule" in out
    assert run([], capsys)[0] == 2


def test_explain_slot_when_the_module_is_missing(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "chainrule.explain_cli", None)
    monkeypatch.delattr(chainrule, "explain_cli", raising=False)
    rc, _, err = run(["explain", "chain-rule"], capsys)
    assert_one_line_error(rc, err, "not available yet")
    assert run(["train", "--help"], capsys)[0] == 0  # the rest still works


def test_explain_slot_uses_the_module(capsys, monkeypatch):
    import types
    seen = {}
    fake = types.ModuleType("chainrule.explain_cli")

    def add_parser(subparsers):
        p = subparsers.add_parser("explain")
        p.add_argument("example", nargs="?", default="chain-rule")
        return p

    def run_(args):
        seen["example"] = args.example
        print("explained")
        return 0

    fake.add_parser, fake.run = add_parser, run_
    monkeypatch.setitem(sys.modules, "chainrule.explain_cli", fake)
    monkeypatch.setattr(chainrule, "explain_cli", fake, raising=False)
    rc, out, _ = run(["explain", "four-vertex"], capsys)
    assert rc == 0 and "explained" in out and seen == {"example": "four-vertex"}


# ----- the edges a new user hits --------------------------------------------------------------
def _env():
    return dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(chainrule.__file__)))


LONG_EXPLAIN = """
import sys, types
fake = types.ModuleType("chainrule.explain_cli")
fake.add_parser = lambda sub: sub.add_parser("explain")
def run(args):
    for i in range(50000):
        print(f"line {i} of a long explanation")
fake.run = run
sys.modules["chainrule.explain_cli"] = fake
from chainrule import cli
sys.exit(cli.main(["explain"]))
"""


def _read_one_line_then_close(argv):
    """Like ``... | head -1``: read one line of stdout, close it, wait for the command."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    p.stderr.close()
    return p.wait(timeout=120), first.decode(), err


def test_a_closed_pipe_ends_output_quietly():
    rc, first, err = _read_one_line_then_close([sys.executable, "-c", LONG_EXPLAIN])
    assert first == "line 0 of a long explanation\n"
    assert rc == 0 and err == "", err


def test_train_keeps_training_when_its_reader_goes_away(tmp_path, csv_file):
    out = tmp_path / "run"
    rc, first, err = _read_one_line_then_close(
        [sys.executable, "-m", "chainrule.cli", *train_args(csv_file, out, "--epochs", "4")])
    assert first.startswith(csv_file)
    assert rc == 0 and "Broken pipe" not in err and "Traceback" not in err, err
    assert sorted(os.listdir(out)) == ["curves.png", "metrics.json", "model.npz"]
    assert len(json.loads((out / "metrics.json").read_text())["test_loss"]) == 4


def test_evaluate_a_file_that_is_not_a_model(tmp_path, capsys):
    p = tmp_path / "notes.txt"
    p.write_text("hello\n")
    rc, _, err = run(["evaluate", str(p)], capsys)
    assert_one_line_error(rc, err, f"{p}: not a chainrule model file (not an .npz archive)")
    assert "pickle" not in err


def test_one_epoch_and_softmax_regression_are_named_so(tmp_path, csv_file, capsys):
    rc, out, err = run(train_args(csv_file, tmp_path / "r", "--epochs", "1", "--hidden"),
                       capsys)
    assert rc == 0, err
    assert "model softmax regression 3-3," in out and "MLP" not in out
    assert ", 1 epoch\n" in out and "after 1 epoch in" in out and "epochs" not in out
    rc, ev, err = run(["evaluate", str(tmp_path / "r" / "model.npz")], capsys)
    assert rc == 0 and "softmax regression 3-3, trained on" in ev, err
    rc, out, _ = run(train_args(csv_file, tmp_path / "s", "--epochs", "2"), capsys)
    assert "model MLP 3-8-3 tanh," in out and ", 2 epochs\n" in out


def _tick_labels(axis):
    lo, hi = sorted(axis.get_view_interval())
    return [t.get_text() for t, v in zip(axis.get_ticklabels(), axis.get_ticklocs())
            if lo <= v <= hi]


@pytest.mark.parametrize("losses", [(0.6050, 0.6048), (0.405, 0.401), (2.3, 0.05)])
def test_curves_of_a_short_run_have_plain_axes(losses):
    metrics = {"epoch": [1], "train_loss": [losses[0]], "test_loss": [losses[1]],
               "train_accuracy": [0.65], "test_accuracy": [0.6],
               "config": {"dataset": "d", "hidden": [], "activation": "tanh",
                          "optimizer": "sgd", "lr": 0.1, "schedule": "constant",
                          "batch_size": 1, "seed": 0}}
    fig = cli.curves_figure(metrics)
    fig.canvas.draw()
    for ax in fig.axes:
        assert _tick_labels(ax.xaxis) == ["1"]
        ys = _tick_labels(ax.yaxis)
        assert len(ys) >= 2 and len(set(ys)) == len(ys), ys  # distinct labels
        for label in ys:
            float(label.replace("\u2212", "-"))  # a plain number: no x10^k, no offset
