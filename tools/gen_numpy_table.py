"""Write docs/numpy.md: how chainrule treats every function of NumPy and SciPy, read from the code.

    python tools/gen_numpy_table.py            # rewrite docs/numpy.md
    python tools/gen_numpy_table.py --check    # exit 1 if docs/numpy.md is out of date

For each public function of numpy, numpy.linalg and numpy.fft it asks
``chainrule.numpy`` how the name resolves (``chainrule.numpy._namespace.kind``):
differentiable (and in which modes: a primitive without a JVP rule gets its
forward mode derived from its VJP rule by the engine), no derivative (NumPy's
function on the values), or refused on a Tensor being differentiated. For SciPy
it reads each ``chainrule.scipy`` submodule's ``__all__`` (the differentiable
functions); every other name of that SciPy module passes through. Conventions at
kinks come from the ``CONVENTIONS`` dicts of the catalogue modules and, for the
core ops, from ``CORE_CONVENTIONS`` below (their rules live in ops/elementwise.py
and ops/reduce.py).
"""
import argparse
import importlib
import inspect
import pathlib
import sys

import numpy

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "numpy.md"

CORE_CONVENTIONS = {
    "abs": "abs'(0) = 0; complex: conj(z)/|z| (0 at 0), real tangent",
    "absolute": "abs'(0) = 0; complex: conj(z)/|z| (0 at 0), real tangent",
    "maximum": "ties split the gradient 1/2 each", "minimum": "ties split the gradient 1/2 each",
    "max": "tied maxima share the gradient equally", "min": "tied minima share equally",
    "amax": "tied maxima share the gradient equally", "amin": "tied minima share equally",
    "clip": "gradient to x where a_min <= x <= a_max (bounds included)",
    "sqrt": "+inf at 0 (no warning)", "power": "d/dx x**0 = 0; d/dy 0**y = 0 for y >= 0",
    "where": "no derivative in the condition",
    "copy": "identity", "real": "VJP: the real part (complex for a complex input)",
    "conjugate": "VJP conj(g)", "conj": "VJP conj(g)",
}


# Names that do I/O, configuration or printing: no array math, listed apart.
UTILITIES = set("""
    load save savez savez_compressed savetxt loadtxt genfromtxt fromfile frombuffer fromiter
    fromregex fromstring from_dlpack get_printoptions set_printoptions printoptions getbufsize
    setbufsize geterr seterr geterrcall seterrcall show_config show_runtime info test
    nested_iters frompyfunc get_include asmatrix bmat require""".split())


def _modes(obj):
    """(reverse, forward) for a differentiable name: 'yes', or forward mode derived."""
    from chainrule.primitive import Primitive
    if isinstance(obj, Primitive) and obj.jvps is None:
        return "yes", "yes (derived from the VJP)"
    return "yes", "yes"


def _cell(text):
    return text.replace("|", "\\|")


def _conventions():
    conv = {}
    for m in _catalogue_modules():
        for f, text in getattr(m, "CONVENTIONS", {}).items():
            conv[f] = text
    return conv


def _catalogue_modules():
    from chainrule.ops import assembly, fft, npextra, npla, products, reductions, ufuncs
    return (ufuncs, reductions, assembly, products, npla, fft, npextra)


def _numpy_section(modname, title):
    from chainrule.numpy._namespace import kind
    cmod = importlib.import_module("chainrule." + modname.replace("numpy", "numpy", 1))
    npmod = importlib.import_module(modname)
    prefix = modname.replace("numpy", "np", 1)
    conv = _conventions()
    rows, none, refused, utilities, values = [], [], [], [], 0
    for name in cmod.__all__:
        obj = getattr(cmod, name)
        k = kind(obj)
        npobj = getattr(npmod, name, None)
        if k == "differentiable":
            rev, fwd = _modes(obj)
            note = _cell(conv.get(npobj) or CORE_CONVENTIONS.get(name, ""))
            rows.append(f"| `{prefix}.{name}` | {rev} | {fwd} | {note} |")
        elif k == "no derivative":
            none.append(f"`{name}`")
        elif k == "refused" and name in UTILITIES:
            utilities.append(f"`{name}`")
        elif k == "refused":
            refused.append(f"`{name}`")
        else:
            values += 1
    out = [f"## {title}", "",
           f"{len(rows)} differentiable, {len(none)} without derivative, {len(refused)} "
           f"refused on a differentiated Tensor, {len(utilities)} utilities; {values} other names (constants, types, "
           f"submodules) are NumPy's own.", "",
           "| function | reverse | forward | convention at kinks, notes |",
           "|---|---|---|---|", *rows, ""]
    if none:
        out += ["**No derivative** (NumPy's function on the values; the result carries no "
                "gradient, as in autograd): " + ", ".join(none) + ".", ""]
    if refused:
        out += ["**Refused** on a Tensor being differentiated (no rule yet; NumPy's function "
                "on plain values): " + ", ".join(refused) + ".", ""]
    if utilities:
        out += ["**Utilities** (I/O, printing, configuration: NumPy's own, refusing a "
                "differentiated Tensor): " + ", ".join(utilities) + ".", ""]
    return out


def _scipy_section(sub):
    try:
        cmod = importlib.import_module(f"chainrule.scipy.{sub}")
        smod = importlib.import_module(f"scipy.{sub}")
    except ImportError:
        return [f"## scipy.{sub}", "", "(SciPy is not installed: `pip install chainrule[scipy]`)",
                ""]
    from chainrule.primitive import Primitive
    ours = sorted(set(getattr(cmod, "__all__", [])))
    conv = getattr(cmod, "CONVENTIONS", {})
    rows = []
    for name in ours:
        obj = getattr(cmod, name)
        if inspect.isfunction(obj) or isinstance(obj, Primitive) or inspect.isbuiltin(obj):
            rev, fwd = _modes(obj)
            rows.append(f"| `scipy.{sub}.{name}` | {rev} | {fwd} | {_cell(conv.get(name, ''))} |")
        else:
            methods = getattr(obj, "methods", None) or sorted(
                m for m in dir(obj) if not m.startswith("_") and callable(getattr(obj, m, None)))
            methods = sorted(methods)
            rows.append(f"| `scipy.{sub}.{name}` | yes | yes | {', '.join(methods)} |")
    rest = sorted(n for n in getattr(smod, "__all__", dir(smod))
                  if not n.startswith("_") and n not in ours
                  and callable(getattr(smod, n, None)))
    out = [f"## scipy.{sub}", "",
           f"{len(rows)} differentiable; {len(rest)} other callables pass through.", "",
           "| function | reverse | forward | notes |", "|---|---|---|---|", *rows, ""]
    if rest:
        out += [f"**Pass through** (SciPy's function on plain values, refused on a Tensor being "
                f"differentiated): " + ", ".join(f"`{n}`" for n in rest) + ".", ""]
    return out


def render():
    import chainrule.numpy  # noqa: F401  (resolves the namespaces)
    lines = [
        "# NumPy and SciPy in chainrule",
        "",
        "<!-- generated by tools/gen_numpy_table.py from the code; do not edit by hand -->",
        "",
        "`import chainrule.numpy as np` gives NumPy's whole namespace. A function is either",
        "**differentiable** (Tensors record vertices; lists holding Tensors are stacked into",
        "the graph), has **no derivative** (its result is piecewise constant, an integer, a",
        "boolean or a shape: NumPy runs on the values, as in HIPS autograd), or is **refused**",
        "on a Tensor being differentiated (a TypeError naming the full path, why, and the",
        "nearest supported function; on plain values it is NumPy's function). The same",
        "implementations serve NumPy's own functions called on a Tensor (`numpy.tan(t)`).",
        "\"derived from the VJP\" in the forward column: the primitive has no JVP rule and",
        "the engine derives forward mode from its VJP rule (one small backward pass).",
        "",
        "Elementwise functions (`np.tanh`, `np.tan`, `np.add`...) are chainrule's primitives",
        "themselves (`chainrule.numpy.tanh is cr.tanh`: no wrapper, no cost); they take",
        "arrays, scalars and Tensors, and a list holding Tensors is refused there (never",
        "silently cut): stack it first with `np.array([...])`. Every other function stacks",
        "such lists itself.",
        "",
        f"Generated with NumPy {numpy.__version__}"
        + (f" and SciPy {_scipy_version()}." if _scipy_version() else "."),
        "",
    ]
    lines += _numpy_section("numpy", "numpy")
    lines += _numpy_section("numpy.linalg", "numpy.linalg")
    lines += _numpy_section("numpy.fft", "numpy.fft")
    lines += ["## numpy.random", "", "NumPy's own module (random numbers have no derivative).",
              ""]
    for sub in ("special", "stats", "linalg", "signal", "integrate"):
        lines += _scipy_section(sub)
    return "\n".join(lines).rstrip() + "\n"


def _scipy_version():
    try:
        import scipy
    except ImportError:
        return None
    return scipy.__version__


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 if docs/numpy.md is stale")
    args = p.parse_args(argv)
    text = render()
    if args.check:
        if not DOC.exists() or DOC.read_text() != text:
            print("docs/numpy.md is out of date: run python tools/gen_numpy_table.py",
                  file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
