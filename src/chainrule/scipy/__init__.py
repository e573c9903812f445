"""chainrule.scipy: differentiable SciPy functions (needs the extra: pip install "chainrule[scipy]")."""
try:
    import scipy as _scipy  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    raise ImportError('chainrule.scipy needs SciPy: pip install "chainrule[scipy]"') from None
