"""Which build of chainrule is running: its hot path compiled by Cython, or pure Python.

``pip install .`` compiles the modules of ``HOT_PATH`` from their own ``.py``
files where a C compiler is available (setup.py, docs/compiled.md); with
``CHAINRULE_PURE_PYTHON=1``, in an editable install, or where compiling fails,
they run as the ``.py`` files. Both builds compute the same numbers.

    >>> from chainrule.build import build_info
    >>> sorted(build_info())
    ['compiled', 'modules']
"""
import importlib
import importlib.machinery

# The modules setup.py compiles (it reads this tuple; paths below chainrule/).
HOT_PATH = (
    "primitive", "backward", "tensor", "forward", "methods", "state", "tracing",
    "transforms", "handed", "pytree", "ops/elementwise", "ops/shape", "ops/reduce",
    "ops/_util", "ops/linalg", "ops/nn",
)


def _is_compiled(module):
    return isinstance(getattr(module.__spec__, "loader", None),
                      importlib.machinery.ExtensionFileLoader)


def build_info():
    """{"compiled": True if every hot-path module is compiled, False if none is, "mixed"
    otherwise; "modules": {module name: compiled?}}."""
    modules = {}
    for m in HOT_PATH:
        name = "chainrule." + m.replace("/", ".")
        modules[name] = _is_compiled(importlib.import_module(name))
    flags = set(modules.values())
    compiled = "mixed" if len(flags) > 1 else flags.pop()
    return {"compiled": compiled, "modules": modules}
