"""Saving and loading trained models as .npz files that never need pickle.

A model file holds one array per parameter (``param:W``, ...), the preprocessing arrays
(``preprocess:mean``, ``preprocess:scale``) and one JSON string (``meta``) with the
architecture, the class labels, the feature names and whatever else the caller records
(the training configuration, the data split). ``np.load(path, allow_pickle=False)`` reads
everything, so opening a model file cannot run code.
"""

from __future__ import annotations

import json

import numpy as np

from ..data.sources import _UNREADABLE, _reason, open_npz
from .module import MLP

FORMAT = "chainrule-model"
VERSION = 1


class ModelFileError(ValueError):
    """A file is missing, corrupt, or not a chainrule model; the message says which."""


def save_model(file, model: MLP, classes: list, mean=None, scale=None,
               feature_names=None, extra: dict | None = None) -> None:
    """Write ``model`` and everything needed to apply it to raw data.

    Args:
        file: path or binary file object (written as given: no ".npz" is appended).
        model: an :class:`MLP` (anything with ``architecture()`` and ``parameters()``).
        classes: the original label of each output class.
        mean, scale: the standardisation fitted on the training rows (raw x -> (x-mean)/scale).
        feature_names: one name per input column.
        extra: more JSON-ready metadata (configuration, data split, final metrics).
    """
    d = model.sizes[0]
    mean = np.zeros(d) if mean is None else np.asarray(mean, dtype=np.float64)
    scale = np.ones(d) if scale is None else np.asarray(scale, dtype=np.float64)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": model.architecture(),
        "classes": list(classes),
        "n_features": d,
        "feature_names": list(feature_names) if feature_names is not None else None,
        "preprocessing": {"kind": "standardize", "arrays": ["preprocess:mean",
                                                            "preprocess:scale"]},
        **(extra or {}),
    }
    arrays = {f"param:{k}": p.value for k, p in model.parameters().items()}
    arrays["preprocess:mean"] = mean
    arrays["preprocess:scale"] = scale
    arrays["meta"] = np.array(json.dumps(meta, sort_keys=True))
    if isinstance(file, str):
        with open(file, "wb") as f:
            np.savez(f, **arrays)
    else:
        np.savez(file, **arrays)


def load_model(path: str):
    """Read a model file written by :func:`save_model`.

    Returns:
        ``(model, meta, mean, scale)``: the MLP with its trained parameters, the metadata
        dict, and the standardisation arrays.

    Raises:
        ModelFileError: the file is missing, unreadable, truncated, pickled, or not ours.
    """
    z = open_npz(path, ModelFileError, "a model file", "not a chainrule model file")
    try:
        with z:
            return _read(path, z)
    except ModelFileError:
        raise
    except _UNREADABLE + (KeyError, TypeError) as e:
        raise ModelFileError(f"{path}: corrupt model file ({_reason(e)})") from None


def _member(path, z, key):
    """z[key] as an array (NumPy hands back the raw bytes of a member that is not .npy)."""
    v = z[key]
    if not isinstance(v, np.ndarray):
        raise ModelFileError(f"{path}: corrupt model file ({key!r} is not a NumPy array)")
    return v


def _read(path, z):
    if "meta" not in z.files:
        raise ModelFileError(f"{path}: not a chainrule model (an .npz file without "
                             "chainrule metadata)")
    raw = _member(path, z, "meta")
    if raw.shape != () or raw.dtype.kind != "U":
        raise ModelFileError(f"{path}: not a chainrule model (its 'meta' entry is not text)")
    try:
        meta = json.loads(str(raw))
    except json.JSONDecodeError:
        raise ModelFileError(f"{path}: corrupt model file (metadata is not valid JSON)") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a chainrule model (format is "
                             f"{meta.get('format') if isinstance(meta, dict) else None!r})")
    if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
        raise ModelFileError(f"{path}: model format version {meta.get('version')!r} is not "
                             f"supported by this chainrule (reads version {VERSION})")
    try:
        model = MLP.from_architecture(meta.get("architecture"))
    except (ValueError, TypeError) as e:
        raise ModelFileError(f"{path}: corrupt model file ({e})") from None
    classes = meta.get("classes")
    K = model.sizes[-1]
    if not isinstance(classes, list) or len(classes) != K:
        raise ModelFileError(f"{path}: corrupt model file (expected {K} class labels, "
                             f"found {classes!r:.60})")
    state = {}
    for name, p in model.parameters().items():
        key = f"param:{name}"
        if key not in z.files:
            raise ModelFileError(f"{path}: corrupt model file (parameter {name!r} is missing)")
        v = _member(path, z, key)
        if v.shape != p.value.shape or v.dtype.kind != "f":
            raise ModelFileError(f"{path}: corrupt model file (parameter {name!r} has shape "
                                 f"{v.shape} and dtype {v.dtype}; expected {p.value.shape} "
                                 "floats)")
        state[name] = v
    model.load_state_dict(state)
    d = model.sizes[0]
    pre = []
    for key in ("preprocess:mean", "preprocess:scale"):
        if key not in z.files:
            raise ModelFileError(f"{path}: corrupt model file ({key!r} is missing)")
        v = _member(path, z, key)
        if v.shape != (d,) or v.dtype.kind != "f":
            raise ModelFileError(f"{path}: corrupt model file ({key!r} has shape {v.shape}, "
                                 f"expected ({d},))")
        pre.append(v.astype(np.float64))
    if not np.all(pre[1] > 0):
        raise ModelFileError(f"{path}: corrupt model file (non-positive standardisation scale)")
    return model, meta, pre[0], pre[1]

