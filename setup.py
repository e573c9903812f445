"""Build chainrule: the pure-Python package, with its hot path compiled by Cython where it can be.

The modules in ``chainrule.build.HOT_PATH`` (recording, the Tensor, the backward loop...) are
compiled from the same ``.py`` files, unchanged, by Cython's pure-Python mode;
the ``.py`` files stay in the package as the readable source and the fallback.
Compiling is optional at every step: no Cython, no C compiler, or a module
that fails to compile, and the install goes on with that module in pure
Python (a warning says which). Skipped on purpose:

- ``CHAINRULE_PURE_PYTHON=1`` in the environment: no compilation at all;
- an editable install (``pip install -e .``): a compiled module next to its
  ``.py`` in src/ would shadow every later edit of that file.

Everything else (name, dependencies, extras) is in pyproject.toml; see
docs/compiled.md for what compiling buys and how both builds are tested.
"""
import ast
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")


def _hot_path():
    """chainrule.build.HOT_PATH, read without importing chainrule (one list, one place).

    The modules every recorded op and every backward step runs through, chosen
    by measurement (docs/compiled.md); paths below src/chainrule.
    """
    tree = ast.parse(open(os.path.join(SRC, "chainrule", "build.py")).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "HOT_PATH":
            return ast.literal_eval(node.value)
    raise RuntimeError("src/chainrule/build.py has no HOT_PATH")


DIRECTIVES = {
    "language_level": 3,
    "binding": True,            # functions keep signatures, __doc__, introspection
    "annotation_typing": False,  # an annotation never changes what a function accepts
    "embedsignature": True,
}


def _pure_python_requested():
    return os.environ.get("CHAINRULE_PURE_PYTHON", "").strip() not in ("", "0")


def _say(msg):
    print(f"chainrule setup: {msg}", file=sys.stderr)


class optional_build_ext(build_ext):
    """build_ext that compiles what it can and leaves the rest to pure Python."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:  # the modules compile independently: use the cores
            self.parallel = os.cpu_count() or 1
        if _pure_python_requested():
            _say("CHAINRULE_PURE_PYTHON is set: installing pure Python (nothing compiled)")
        elif self.inplace or getattr(self, "editable_mode", False):
            _say("editable or in-place build: pure Python (compiled modules in src/ would "
                 "shadow edits of their .py files)")
        else:
            return
        for ext in self.extensions:
            self._drop(ext)
        self.extensions = []

    def _drop(self, ext):
        """Leave ``ext`` in pure Python: remove any compiled module of it that an earlier
        build left (in build/lib, or in src/ for an in-place build), which would be
        packed or imported instead of the .py."""
        stale = self.get_ext_fullpath(ext.name)
        if os.path.exists(stale):
            _say(f"removing {stale}, left by an earlier compiled build")
            os.remove(stale)

    def run(self):
        if not self.extensions:
            return
        try:
            from Cython.Build import cythonize
        except ImportError:
            _say("Cython is not installed: installing pure Python")
            for ext in self.extensions:
                self._drop(ext)
            self.extensions = []
            return
        cdir = os.path.abspath(os.path.join(self.build_temp, "cython"))  # C never lands in src/
        ready = []
        for ext in self.extensions:  # one at a time: a failure costs only that module
            # Translated from inside src/, so that tracebacks name the file as it sits
            # in the package ("chainrule/backward.py"), not as it sat on the build machine.
            ext.sources = [os.path.relpath(os.path.abspath(s), SRC) for s in ext.sources]
            here = os.getcwd()
            os.chdir(SRC)
            try:
                made = cythonize([ext], build_dir=cdir, compiler_directives=DIRECTIVES,
                                 quiet=True, force=self.force)
            except BaseException as e:  # Cython raises CompileError, or exits
                if isinstance(e, KeyboardInterrupt):
                    raise
                _say(f"Cython could not translate {ext.name} ({e!r}): it stays pure Python")
                self._drop(ext)
                continue
            finally:
                os.chdir(here)
            for c in made:  # what finalize_options worked out (_needs_stub...) carries over
                for k, v in vars(ext).items():
                    if k.startswith("_") and not hasattr(c, k):
                        setattr(c, k, v)
            ready += made
        self.extensions = ready
        try:
            super().run()
        except Exception as e:  # no C compiler at all, a broken toolchain...
            _say(f"compiling failed ({e!r}): the modules not built stay pure Python")

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as e:
            _say(f"could not compile {ext.name} ({e!r}): it stays pure Python")
            self._drop(ext)  # half-built, or an earlier build's: never install it


def _extensions():
    # sources relative to the project root (pip runs setup.py there)
    return [Extension("chainrule." + m.replace("/", "."), [f"src/chainrule/{m}.py"], optional=True)
            for m in _hot_path()]


setup(ext_modules=_extensions(), cmdclass={"build_ext": optional_build_ext})
