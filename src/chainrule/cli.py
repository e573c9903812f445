"""The ``chainrule`` command: ``train``, ``evaluate`` and ``explain``.

``main(argv)`` returns the exit status instead of exiting, so tests can drive it in-process.
Every mistake a user can make (a bad option, a missing or malformed file, an unusable
dataset, a foreign model file) ends in one line on stderr and exit status 2, never a
traceback. ``train`` writes its outputs into a hidden temporary folder next to the target
and renames it into place only when everything is written, so a folder named like a run
is always a finished run.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np

#: Defaults of ``chainrule train``, chosen so that the plain command reaches >= 95% test
#: accuracy on digits in a few seconds (docs/training.md has the measurements).
DEFAULTS = {
    "dataset": "digits",
    "hidden": [128],
    "activation": "tanh",
    "optimizer": "sgd",
    "lr": {"sgd": 0.03, "momentum": 0.01, "adam": 0.001},
    "schedule": "cosine",
    "momentum": 0.9,
    "batch_size": 1,
    "epochs": 15,
    "seed": 0,
    "test_fraction": 0.2,
}

EXIT_USAGE = 2


class UsageError(Exception):
    """A mistake in the command line or its inputs: reported as one line, exit status 2."""

    def __init__(self, message, prog=None):
        super().__init__(message)
        self.prog = prog


class _ParserExit(Exception):
    def __init__(self, status):
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse, but errors become one line and nothing calls sys.exit behind our back."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')", prog=self.prog)

    def exit(self, status=0, message=None):
        if message:
            sys.stderr.write(message)
        raise _ParserExit(status)


# ----- argument types: reject bad values while parsing, with the option's name ------------
def _arg_type(convert, ok, expected: str, must: str):
    """An argparse ``type``: ``convert(text)``, then ``ok(value)``, else a message.

    Args:
        convert: int or float.
        ok: the test a converted value must pass.
        expected: what to ask for when the text is not a number ("a positive integer").
        must: what to say when the number fails ``ok`` ("must be >= 0").
    """
    def parse(text):
        try:
            v = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not ok(v):
            raise argparse.ArgumentTypeError(f"{must}, got {text}")
        return v
    parse.__name__ = expected  # argparse names the type in some messages
    return parse


def _finite(v):
    return bool(np.isfinite(v))


_positive_int = _arg_type(int, lambda v: v > 0, "a positive integer",
                          "must be a positive integer")
_positive_float = _arg_type(float, lambda v: v > 0 and _finite(v), "a positive number",
                            "must be a positive number")
_nonnegative_float = _arg_type(float, lambda v: v >= 0 and _finite(v), "a number",
                               "must be >= 0")
_fraction = _arg_type(float, lambda v: 0 < v < 1, "a number in (0, 1)",
                      "must be strictly between 0 and 1")
_momentum = _arg_type(float, lambda v: 0 <= v < 1, "a number in [0, 1)", "must be in [0, 1)")
_seed = _arg_type(int, lambda v: v >= 0, "a non-negative integer", "must be >= 0")


# ----- the parser ----------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chainrule",
                     description="Reverse-mode autodiff on the notes' computational graphs: "
                                 "train and evaluate the notes' network, or explain a graph.")
    parser.add_argument("--version", action="version", version=f"chainrule {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_train(sub)
    _add_evaluate(sub)
    _add_explain(sub)
    return parser


def _add_train(sub):
    d = DEFAULTS
    p = sub.add_parser(
        "train", help="train the notes' network (an MLP) on a dataset",
        description="Train the notes' feedforward network z = Wx+b, h = g(z), l = Vh+gamma, "
                    "q = log_softmax(l), o = -q_y by SGD, and save model.npz, metrics.json "
                    "and curves.png. With no options: digits, one hidden layer of "
                    f"{d['hidden'][0]} tanh units, batch size 1, {d['epochs']} epochs.")
    p.add_argument("--dataset", default=d["dataset"], metavar="NAME|PATH",
                   help="digits, iris, wine, breast_cancer, or a .csv/.npz file "
                        "(default: %(default)s)")
    p.add_argument("--target", metavar="COLUMN",
                   help="CSV label column, by header name or 0-based index (default: last)")
    p.add_argument("--hidden", type=_positive_int, nargs="*", default=d["hidden"], metavar="M",
                   help="hidden layer sizes; several give a deeper net, none gives softmax "
                        "regression (default: %(default)s)")
    p.add_argument("--activation", choices=["tanh", "relu", "sigmoid"], default=d["activation"],
                   help="transfer function g (default: %(default)s)")
    p.add_argument("--optimizer", choices=["sgd", "momentum", "adam"], default=d["optimizer"],
                   help="sgd is the notes' update; momentum is SGD with --momentum "
                        "(default: %(default)s)")
    p.add_argument("--lr", type=_positive_float, metavar="ETA0",
                   help="initial learning rate (default: %s)" %
                        ", ".join(f"{v} for {k}" for k, v in d["lr"].items()))
    p.add_argument("--schedule", choices=["constant", "inverse-time", "step", "cosine"],
                   default=d["schedule"],
                   help="learning rate over steps t: constant; inverse-time "
                        "eta0/(1+t/tau); step (halve every --decay epochs); cosine to 0 over "
                        "the run (default: %(default)s)")
    p.add_argument("--decay", type=_positive_float, metavar="EPOCHS",
                   help="tau of inverse-time (default: 1 epoch) and the period of step "
                        "(default: a quarter of --epochs), in epochs")
    p.add_argument("--momentum", type=_momentum, default=d["momentum"], metavar="MU",
                   help="momentum of --optimizer momentum (default: %(default)s)")
    p.add_argument("--nesterov", action="store_true",
                   help="Nesterov momentum (with --optimizer momentum)")
    p.add_argument("--weight-decay", type=_nonnegative_float, default=0.0, metavar="LAMBDA",
                   help="L2 penalty added to every gradient (default: 0)")
    p.add_argument("--batch-size", type=_positive_int, default=d["batch_size"], metavar="B",
                   help="examples per step; 1 is the notes' SGD (default: %(default)s)")
    p.add_argument("--sampling", choices=["uniform", "shuffle"],
                   help="uniform: each step draws examples at random with replacement (the "
                        "notes); shuffle: each epoch visits every row once in random order "
                        "(default: uniform for batch size 1, else shuffle)")
    p.add_argument("--epochs", type=_positive_int, default=d["epochs"],
                   help="passes over the training data, n steps each for batch size 1 "
                        "(default: %(default)s)")
    p.add_argument("--seed", type=_seed, default=d["seed"],
                   help="seeds the split, the initial weights and the example order; same "
                        "seed, same numbers (default: %(default)s)")
    p.add_argument("--test-fraction", type=_fraction, default=d["test_fraction"], metavar="F",
                   help="share of each class held out for testing (default: %(default)s)")
    p.add_argument("--out", metavar="DIR",
                   help="output folder, created (default: a new folder under runs/)")
    p.add_argument("--stop-on-nan", action="store_true",
                   help="stop at the first step whose loss is NaN or infinite (on any "
                        "process), instead of reporting divergence at the epoch's end")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)


def _add_evaluate(sub):
    p = sub.add_parser(
        "evaluate", help="score a saved model: loss, accuracy, confusion matrix",
        description="Apply a model.npz written by 'chainrule train' to a dataset and print "
                    "its loss, accuracy and confusion matrix. On the data it was trained on, "
                    "the default scores the same test split the training run reported.")
    p.add_argument("model", metavar="MODEL.npz")
    p.add_argument("--dataset", metavar="NAME|PATH",
                   help="digits, iris, wine, breast_cancer or a .csv/.npz file "
                        "(default: the dataset the model was trained on)")
    p.add_argument("--target", metavar="COLUMN",
                   help="CSV label column (default: the training run's, else the last)")
    p.add_argument("--split", choices=["test", "train", "all"],
                   help="which rows to score; test/train re-create the training run's split "
                        "(default: test when the data is the training data, else all)")
    p.set_defaults(func=cmd_evaluate)


def _add_explain(sub):
    """Wire ``chainrule explain`` to chainrule.explain_cli if that module exists."""
    name = f"{__package__}.explain_cli"
    try:
        explain_cli = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name != name:
            return _add_explain_stub(sub, f"unavailable: it failed to load ({e})")
        return _add_explain_stub(sub, "not available yet (chainrule.explain_cli is missing)")
    except Exception as e:  # a bug there must not take train/evaluate down with it
        return _add_explain_stub(sub, f"unavailable: it failed to load "
                                      f"({type(e).__name__}: {e})")
    made = explain_cli.add_parser(sub)
    p = made if isinstance(made, argparse.ArgumentParser) else sub.choices.get("explain")
    if p is None:
        return _add_explain_stub(sub, "unavailable: its module registered no parser")
    p.set_defaults(func=_run_explain(explain_cli.run))


def _add_explain_stub(sub, why):
    p = sub.add_parser("explain", help="explain a computational graph (not available)",
                       add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)

    def unavailable(args):
        raise UsageError(f"'chainrule explain' is {why}")
    p.set_defaults(func=unavailable)


def _run_explain(run):
    def cmd(args):
        rc = run(args)
        return rc if isinstance(rc, int) else 0
    return cmd


# ----- main ----------------------------------------------------------------------------------
def main(argv=None) -> int:
    """Run the command line; return the exit status (0 success, 2 bad input)."""
    from .data import DataError
    from .distributed import DistributedError
    from .errors import ChainruleError
    from .nn.serialize import ModelFileError

    parser = build_parser()
    command = None
    guard = sys.stdout = _StdoutGuard(sys.stdout)
    try:
        args, extra = parser.parse_known_args(argv)
        command = args.command
        if extra:  # reported by the subcommand, which argparse's own message does not name
            where = f"chainrule {command}" if command else "chainrule"
            raise UsageError(f"unrecognized arguments: {' '.join(extra)} "
                             f"(see '{where} --help')", prog=where)
        if command is None:
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        if command != "train" and _rank() != 0:
            return 0  # evaluate, explain: one process's job; under mpiexec rank 0 does it
        return args.func(args)
    except _ParserExit as e:
        return e.status
    except UsageError as e:
        return _fail(e.prog or command, e)
    except (DataError, ModelFileError, ChainruleError, DistributedError) as e:
        return _fail(command, e)
    except BrokenPipeError as e:
        if e.filename is not None:  # a named pipe we opened, not our standard output
            return _fail(command, f"{e.strerror or e}: {e.filename}")
        guard.reader_gone()  # e.g. a write through sys.stdout.buffer after '| head'
        return 0
    except OSError as e:  # a folder we cannot write, a full disk
        return _fail(command, f"{e.strerror or e}"
                              + (f": {e.filename}" if getattr(e, "filename", None) else ""))
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = guard.stream


class _StdoutGuard:
    """``sys.stdout`` while a command runs: when the reader goes away (``| head``), output
    ends quietly and the command carries on (Unix tools' convention; ``train`` still
    trains and writes its run folder)."""

    def __init__(self, stream):
        self.stream = stream
        self.gone = False

    def write(self, text):
        if not self.gone:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self.reader_gone()
        return len(text)

    def flush(self):
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self.reader_gone()

    def reader_gone(self):
        """Stop writing; point the descriptor at /dev/null so that the interpreter's final
        flush of what is still buffered does not fail with "Broken pipe" either."""
        self.gone = True
        try:
            fd = self.stream.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            return  # not a real descriptor (a test's capture): nothing buffered below us
        os.dup2(devnull, fd)
        os.close(devnull)

    def __getattr__(self, name):  # isatty, encoding, fileno, buffer...
        return getattr(self.stream, name)


def _fail(command, message) -> int:
    if command is None:
        prog = "chainrule"
    elif command.startswith("chainrule"):
        prog = command
    else:
        prog = f"chainrule {command}"
    text = " ".join(str(message).split())
    if _rank() == 0:  # under MPI every rank meets the same error; rank 0 says it
        print(f"{prog}: error: {text}", file=sys.stderr)
    return EXIT_USAGE


def _rank() -> int:
    """This process's MPI rank, from the launcher's environment (0 without MPI)."""
    from .distributed import launch_rank
    return launch_rank()


# ----- train ---------------------------------------------------------------------------------
def cmd_train(args) -> int:
    """Train; under ``mpiexec -n N`` every rank runs this, data-parallel (docs/distributed.md).

    Every rank loads the same data and model, and they agree at the start (no errors,
    same chainrule version, same data checksum, enough rows); each step every rank takes
    its share of the same global batch and one Allreduce adds the gradients. Rank 0 alone
    prints and writes the run folder. A rank that fails mid-run ends every rank (MPI_Abort)
    with one line naming it; failures all ranks see alike (divergence, a NaN loss with
    --stop-on-nan) end them all normally with exit status 2.
    """
    from . import distributed as dist
    from .allocator import keep_freed_memory

    keep_freed_memory()  # the steps reuse their arrays' memory (chainrule/allocator.py)
    n = dist.size()
    if n == 1:
        run = _prepare(args, n)
    else:
        try:
            run, err = _prepare(args, n), None
        except _reported() as e:
            run, err = None, e  # reported once the ranks have compared notes
        _agree_at_start(dist, err, run)
    say = print if dist.is_main() else _quiet
    ds, config, model = run["ds"], run["config"], run["model"]
    if n > 1:
        dist.broadcast_parameters(model.parameters())  # rank 0's initial values everywhere
        limits = dist.share_cores()
    say(f"{_describe_data(ds)}: {len(run['train'][0])} train / {len(run['test'][0])} test rows "
        f"(seed {args.seed})")
    batch = f"batch size {args.batch_size}"
    if n > 1:
        batch += f" (global: {args.batch_size / n:g} per process on {n} processes)"
    say(f"model {model.describe()}, "
        f"{model.num_parameters()} parameters; {args.optimizer} lr {config['lr']:g} "
        f"({args.schedule}), {batch}, {_count(args.epochs, 'epoch')}")

    start = time.perf_counter()
    try:
        with np.errstate(all="ignore"):  # divergence is reported by _fit, in one line
            history, communication = _fit(args, config, model, run["train"], run["test"],
                                          dist, say)
    except UsageError:
        raise  # every rank raised the same (divergence, --stop-on-nan): no abort needed
    except BaseException as e:
        if n > 1:  # only this rank knows: end them all rather than leave them waiting
            cause = "interrupted" if isinstance(e, KeyboardInterrupt) else _cause(e)
            if isinstance(e, KeyboardInterrupt) and not dist.is_main():
                time.sleep(1.0)  # Ctrl-C reaches every rank: let rank 0 say it, once
            dist.abort(f"chainrule train: error: rank {dist.rank()} of {n}: {cause}; "
                       f"ending all {n} processes", 130 if isinstance(e, KeyboardInterrupt)
                       else 1)
        raise
    seconds = time.perf_counter() - start
    if n > 1 and limits is not None:
        limits.unregister()

    split = {"seed": args.seed, "test_fraction": args.test_fraction,
             "n_train": len(run["train"][0]), "n_test": len(run["test"][0])}
    data_info = {"name": args.dataset, "target": ds.target, "n_rows": int(len(ds.y)),
                 "n_features": ds.n_features, "classes": ds.classes,
                 "sha256": run["sha256"], "split": split}
    final = {"train_loss": history["train_loss"][-1], "test_loss": history["test_loss"][-1],
             "test_accuracy": history["test_accuracy"][-1]}
    metrics = {"config": config, "data": data_info, "processes": n,
               "epoch": list(range(1, args.epochs + 1)), **history, "final": final}
    if communication:
        metrics["communication"] = communication
    failed = None
    if dist.is_main():
        try:
            _write_run(run["out"], model, ds, run["scaler"], config, data_info, final, metrics)
        except BaseException as e:
            failed = e
    if n > 1:  # the other ranks exit as rank 0 does
        text = dist.share(None if failed is None else _cause(failed))
        if text is not None and not dist.is_main():
            raise UsageError(text)
    if failed is not None:
        raise failed
    say(f"test accuracy {100 * final['test_accuracy']:.2f}% after "
        f"{_count(args.epochs, 'epoch')} "
        f"in {seconds:.1f} s; wrote {run['out']}/ (model.npz, metrics.json, curves.png)")
    return 0


def _prepare(args, n) -> dict:
    """Check the options, choose the run folder (rank 0), load and split the data, build
    the model: everything that can fail before training, on every rank."""
    from . import data, nn
    from . import distributed as dist

    config = _train_config(args)
    if n > 1 and args.batch_size < n:
        raise UsageError(f"--batch-size {args.batch_size} is the global batch, split across "
                         f"the {n} processes; it must be at least {n} (batch size 1, the "
                         "notes' SGD, runs in one process)")
    out = _choose_out_dir(args.out, config["dataset"]) if dist.is_main() else None
    ds = data.load_dataset(args.dataset, args.target, min_classes=2)
    train_idx, test_idx = data.train_test_split(ds.y, args.test_fraction, args.seed)
    scaler = data.Standardizer().fit(ds.X[train_idx])
    train = scaler.transform(ds.X[train_idx]), ds.y[train_idx]
    test = scaler.transform(ds.X[test_idx]), ds.y[test_idx]
    sizes = [ds.n_features, *args.hidden, ds.n_classes]
    model = nn.MLP(sizes, activation=args.activation, seed=args.seed)
    return {"config": config, "out": out, "ds": ds, "sha256": ds.fingerprint(),
            "scaler": scaler, "train": train, "test": test, "model": model}


def _agree_at_start(dist, err, run) -> None:
    """Every rank compares its start with the others'; all raise the same UsageError if
    any rank failed, or if versions, data or the number of rows do not fit."""
    n = dist.size()
    mine = (None if err is None else _cause(err), _version(),
            None if run is None else run["sha256"],
            None if run is None else len(run["train"][0]))
    notes = dist.allgather(mine)
    failed = [(r, e) for r, (e, *_rest) in enumerate(notes) if e is not None]
    if failed:
        if len(failed) == n and len({e for _, e in failed}) == 1:
            raise UsageError(failed[0][1])  # the same on every rank: say it once
        r, e = failed[0]
        raise UsageError(f"rank {r} of {n}: {e}")
    versions = [v for _, v, _, _ in notes]
    if len(set(versions)) > 1:
        raise UsageError("the processes run different chainrule versions ("
                         + ", ".join(f"rank {r}: {v}" for r, v in enumerate(versions))
                         + "); install the same version on every node")
    sums = [h for _, _, h, _ in notes]
    if len(set(sums)) > 1:
        odd = [r for r, h in enumerate(sums) if h != sums[0]]
        raise UsageError(f"the dataset differs between processes: rank(s) {odd} loaded "
                         f"data whose SHA-256 is not rank 0's ({sums[0][:12]}...); every "
                         "process must read the same file")
    n_train = notes[0][3]
    if n_train < n:
        raise UsageError(f"{n} processes but only {n_train} training rows: every process "
                         f"needs at least one; use at most {n_train} processes")


def _quiet(*args, **kwargs):
    pass


def _cause(e: BaseException) -> str:
    """One line for an error: its message, with the type when that is not self-evident."""
    text = " ".join(str(e).split())
    if isinstance(e, _reported()):
        return text or type(e).__name__
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _reported():
    """The errors a user can cause: reported in one line, exit status 2."""
    from .data import DataError
    from .distributed import DistributedError
    from .errors import ChainruleError
    from .nn.serialize import ModelFileError
    return (UsageError, DataError, ModelFileError, ChainruleError, DistributedError, OSError)


def _fit(args, config, model, train, test, dist, say):
    """The epochs: train, score both splits, print one line each; stop on divergence.

    Returns:
        ``(history, communication)``: ``{"train_loss": [...], "train_accuracy": [...],
        "test_loss": [...], "test_accuracy": [...]}`` (one entry per epoch), and with
        several processes the gradient Allreduce calls and seconds (else None).
    """
    from . import nn, optim

    (X_train, y_train), (X_test, y_test) = train, test
    n, rank = dist.size(), dist.rank()
    steps_per_epoch = -(-len(X_train) // args.batch_size)
    decay = config["decay_epochs"]
    schedule = optim.make_schedule(
        args.schedule, config["lr"], total_steps=args.epochs * steps_per_epoch,
        decay_steps=None if decay is None else decay * steps_per_epoch)
    opt = _make_optimizer(args, model, schedule)
    replace = config["sampling"] == "uniform"
    order_rng = np.random.default_rng([args.seed, 1])  # the same on every rank
    history = {k: [] for k in ("train_loss", "train_accuracy", "test_loss", "test_accuracy")}
    calls, comm_seconds, comm_bytes = 0, 0.0, 0
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        before = dict(dist.stats)
        with _progress(steps_per_epoch, f"epoch {epoch}/{args.epochs}",
                       disable=args.no_progress or not dist.is_main()) as bar:
            try:
                nn.train_epoch(model, opt, X_train, y_train, args.batch_size, order_rng,
                               replace=replace, on_steps=bar.update,
                               stop_on_nan=args.stop_on_nan, shard=(rank, n),
                               allreduce_sum=dist.allreduce_sum)
            except nn.NonFiniteLossError as e:
                where = ("" if n == 1 else f" on rank{'s' if len(e.ranks) > 1 else ''} "
                         f"{', '.join(map(str, e.ranks))} of {n}")
                raise UsageError(f"the loss is not finite at step {e.step} of epoch {epoch}"
                                 f"{where}; stopped (--stop-on-nan). Try a smaller --lr "
                                 f"than {config['lr']:g}") from None
        calls += dist.stats["allreduce_calls"] - before["allreduce_calls"]
        comm_seconds += dist.stats["allreduce_seconds"] - before["allreduce_seconds"]
        comm_bytes += dist.stats["allreduce_bytes"] - before["allreduce_bytes"]
        (train_loss, train_acc), (test_loss, test_acc) = _score(model, train, test, dist)
        if not (np.isfinite(train_loss) and np.isfinite(test_loss)):
            raise UsageError(f"training diverged in epoch {epoch} (the loss is "
                             f"{train_loss}); try a smaller --lr than {config['lr']:g}")
        for k, v in zip(history, (train_loss, train_acc, test_loss, test_acc)):
            history[k].append(float(v))
        say(f"epoch {epoch:>{len(str(args.epochs))}}/{args.epochs}  "
            f"train loss {train_loss:.4f}  test loss {test_loss:.4f}  "
            f"test accuracy {100 * test_acc:.2f}%  ({time.perf_counter() - start:.1f} s)",
            flush=True)
    if n == 1:
        return history, None
    steps = args.epochs * steps_per_epoch
    return history, {"steps": steps, "gradient_allreduce_calls": calls,
                     "allreduce_seconds": round(comm_seconds, 6),
                     "allreduce_bytes_per_step": comm_bytes // max(steps, 1)}


def _score(model, train, test, dist):
    """(loss, accuracy) of both splits; with several processes each scores rows r::N and
    one Allreduce adds the sums, so the figures cover every rank's examples."""
    from . import nn

    n, rank = dist.size(), dist.rank()
    if n == 1:
        return [nn.evaluate(model, X, y)[:2] for X, y in (train, test)]
    sums = []
    for X, y in (train, test):
        loss_sum, correct, _ = nn.evaluate_sums(model, X[rank::n], y[rank::n])
        sums.append(np.array([loss_sum, correct]))
    total = dist.allreduce_sum(sums)
    return [(t[0] / len(X), t[1] / len(X)) for t, (X, _) in zip(total, (train, test))]


def _train_config(args) -> dict:
    lr = args.lr if args.lr is not None else DEFAULTS["lr"][args.optimizer]
    if args.nesterov and args.optimizer != "momentum":
        raise UsageError("--nesterov needs --optimizer momentum")
    return {
        "dataset": args.dataset, "target": args.target, "hidden": list(args.hidden),
        "activation": args.activation, "optimizer": args.optimizer, "lr": lr,
        "schedule": args.schedule, "decay_epochs": _decay_epochs(args),
        "momentum": args.momentum if args.optimizer == "momentum" else 0.0,
        "nesterov": args.nesterov, "weight_decay": args.weight_decay,
        "batch_size": args.batch_size,
        "sampling": args.sampling or ("uniform" if args.batch_size == 1 else "shuffle"),
        "epochs": args.epochs, "seed": args.seed, "test_fraction": args.test_fraction,
    }


def _decay_epochs(args):
    if args.schedule == "inverse-time":
        return args.decay or 1.0
    if args.schedule == "step":
        return args.decay or max(1.0, args.epochs / 4)
    return None


def _make_optimizer(args, model, schedule):
    from . import optim
    params = model.parameters()
    if args.optimizer == "adam":
        return optim.Adam(params, lr=schedule, weight_decay=args.weight_decay)
    momentum = args.momentum if args.optimizer == "momentum" else 0.0
    return optim.SGD(params, lr=schedule, momentum=momentum,
                     nesterov=args.nesterov and momentum > 0, weight_decay=args.weight_decay)


def _count(n: int, noun: str) -> str:
    """"1 epoch", "15 epochs"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _describe_data(ds) -> str:
    return (f"{ds.name}: {len(ds.y)} rows, {ds.n_features} features, "
            f"{ds.n_classes} classes")


class _NoBar:
    def update(self, n):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _progress(total, desc, disable):
    if disable:
        return _NoBar()
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit="step", leave=False, mininterval=0.25,
                file=sys.stderr, dynamic_ncols=True)


def _choose_out_dir(out, dataset) -> str:
    """Check ``--out`` (or invent a fresh folder under runs/) before any work is done."""
    if out is None:
        stem = os.path.splitext(os.path.basename(dataset.rstrip("/\\")))[0] or "run"
        base = os.path.join("runs", f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
        out, k = base, 1
        while os.path.exists(out):
            k += 1
            out = f"{base}-{k}"
        return out
    out = out.rstrip("/\\") or out
    if os.path.exists(out):
        if not os.path.isdir(out):
            raise UsageError(f"--out {out} exists and is not a folder")
        if os.listdir(out):
            raise UsageError(f"--out {out} already exists and is not empty; choose a new "
                             "folder or remove it")
    return out


def _write_run(final_dir, model, ds, scaler, config, data_info, final, metrics):
    """Write the three outputs into a temporary sibling folder, then rename it into place."""
    from .nn import save_model

    parent = os.path.dirname(os.path.abspath(final_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(final_dir)}.partial-", dir=parent)
    try:
        save_model(os.path.join(tmp, "model.npz"), model, ds.classes, scaler.mean,
                   scaler.scale, ds.feature_names,
                   extra={"config": config, "data": data_info, "final": final})
        with open(os.path.join(tmp, "metrics.json"), "w") as f:
            json.dump(metrics, f, indent=2)
            f.write("\n")
        plot_curves(metrics, os.path.join(tmp, "curves.png"))
        if os.path.isdir(final_dir):
            os.rmdir(final_dir)  # checked empty before training; rename needs it gone
        os.rename(tmp, final_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def plot_curves(metrics: dict, path: str) -> None:
    """Loss and accuracy against epoch, two panels, written as a PNG (no display needed)."""
    curves_figure(metrics).savefig(path)


def curves_figure(metrics: dict):
    """The figure of :func:`plot_curves` (a matplotlib Figure, drawn without a display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epochs = metrics["epoch"]
    cfg = metrics["config"]
    fig = Figure(figsize=(9, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    losses = [*metrics["train_loss"], *metrics["test_loss"]]
    ax1.plot(epochs, metrics["train_loss"], "o-", ms=3, label="train")
    ax1.plot(epochs, metrics["test_loss"], "o-", ms=3, label="test")
    ax1.set_ylabel("cross-entropy loss")
    if min(losses) > 0 and max(losses) / min(losses) >= 10:  # a log axis only across decades
        ax1.set_yscale("log")
    ax2.plot(epochs, [100 * a for a in metrics["train_accuracy"]], "o-", ms=3, label="train")
    ax2.plot(epochs, [100 * a for a in metrics["test_accuracy"]], "o-", ms=3, label="test")
    ax2.set_ylabel("accuracy (%)")
    _plain_axes(ax1, epochs, losses, min_span=0.1 * max(abs(v) for v in losses))
    _plain_axes(ax2, epochs, [100 * a for a in metrics["train_accuracy"]]
                + [100 * a for a in metrics["test_accuracy"]], min_span=5.0)
    ax1.legend()
    ax2.legend(loc="lower right")
    hidden = "-".join(map(str, cfg["hidden"])) or "none"
    fig.suptitle(f"{cfg['dataset']}: hidden {hidden} {cfg['activation']}, {cfg['optimizer']} "
                 f"lr {cfg['lr']:g} ({cfg['schedule']}), batch {cfg['batch_size']}, "
                 f"seed {cfg['seed']}", fontsize=10)
    fig.tight_layout()
    return fig


def _plain_axes(ax, epochs, values, min_span: float) -> None:
    """Whole epochs on x, plain numbers on y, a y range of at least ``min_span``.

    matplotlib's defaults give a one-epoch run x ticks at 0.96..1.04, a y range as narrow
    as the two values it holds, and on a narrow log axis labels like 4.05x10^-1.
    """
    from matplotlib import ticker

    ax.set_xlabel("epoch")
    if len(epochs) <= 10:
        ax.set_xticks(epochs)
    else:
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
    if len(epochs) == 1:
        ax.set_xlim(epochs[0] - 0.5, epochs[0] + 0.5)
    if ax.get_yscale() == "log":
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
    else:
        plain = ticker.ScalarFormatter(useOffset=False)
        plain.set_scientific(False)
        ax.yaxis.set_major_formatter(plain)
        finite = [v for v in values if np.isfinite(v)]
        if finite and max(finite) - min(finite) < min_span:
            mid = (max(finite) + min(finite)) / 2
            ax.set_ylim(mid - 0.6 * min_span, mid + 0.6 * min_span)
    ax.grid(alpha=0.3)


# ----- evaluate ------------------------------------------------------------------------------
def cmd_evaluate(args) -> int:
    from . import data, nn

    model, meta, mean, scale = nn.load_model(args.model)
    trained_on = meta.get("data") if isinstance(meta.get("data"), dict) else {}
    dataset = args.dataset or trained_on.get("name")
    if not dataset:
        raise UsageError("the model does not record its dataset; pass --dataset")
    target = args.target
    if target is None and dataset.lower().endswith(".csv"):
        recorded = trained_on.get("target")  # the training run's label column, if this CSV has it
        if recorded and recorded in data.csv_header(dataset):
            target = recorded
    ds = data.load_dataset(dataset, target, min_classes=1)
    d = model.sizes[0]
    if ds.n_features != d:
        raise UsageError(f"the model expects {d} features per row but {dataset} has "
                         f"{ds.n_features}; use data with the training data's columns")

    same_data = ds.fingerprint() == trained_on.get("sha256")
    split = args.split or ("test" if same_data else "all")
    rows = np.arange(len(ds.y))
    if split != "all":
        s = trained_on.get("split") or {}
        if not same_data:
            print("chainrule evaluate: note: this is not the data the model was trained on, "
                  f"so its {split} split is not the training run's", file=sys.stderr)
        train_idx, test_idx = data.train_test_split(ds.y, s.get("test_fraction", 0.2),
                                                    s.get("seed", 0))
        rows = test_idx if split == "test" else train_idx
    ds = ds.relabel(meta["classes"])
    X = (ds.X[rows] - mean) / scale
    y = ds.y[rows]
    loss, acc, pred = nn.evaluate(model, X, y)
    C = nn.confusion_matrix(y, pred, len(ds.classes))

    print(f"model {args.model}: {model.describe()}, trained on {trained_on.get('name', '?')}")
    if split == "all":
        print(f"data {dataset}: all {len(y)} rows")
    else:
        print(f"data {dataset}: the {split} split, {len(y)} of {len(ds.y)} rows "
              f"(seed {s.get('seed', 0)}, test fraction {s.get('test_fraction', 0.2)})")
    print(f"loss {loss:.4f}")
    print(f"accuracy {100 * acc:.2f}% ({int(np.trace(C))}/{len(y)})")
    print("confusion matrix (rows: true label, columns: predicted label):")
    print(format_confusion(C, ds.classes))
    return 0


def format_confusion(C: np.ndarray, classes: list) -> str:
    """The confusion matrix as an aligned text table with class labels on both axes."""
    labels = [str(c) for c in classes]
    w = max(max(len(s) for s in labels), len(str(int(C.max()) if C.size else 0)))
    lines = [" " * (w + 2) + " ".join(s.rjust(w) for s in labels)]
    for s, row in zip(labels, C):
        lines.append(s.rjust(w) + "  " + " ".join(str(int(v)).rjust(w) for v in row))
    return "\n".join(lines)


def _version() -> str:
    try:
        from . import __version__
        return __version__
    except ImportError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
