"""chainrule.extend: HIPS autograd's way of defining primitives, on chainrule's engine.

``primitive``, ``defvjp``, ``defjvp``, ``defvjp_argnum``, ``defjvp_argnum`` and
``def_linear`` take autograd's rule forms, so code written for
``autograd.extend`` runs unchanged:

    >>> import chainrule as cr, chainrule.numpy as np
    >>> from chainrule.extend import primitive, defvjp
    >>> @primitive
    ... def logsumexp(x):
    ...     m = np.max(x)
    ...     return m + np.log(np.sum(np.exp(x - m)))
    >>> defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))
    >>> cr.grad(logsumexp)(np.array([0.0, 0.0])).tolist()
    [0.5, 0.5]

Rule forms (told apart by their parameters, or by ``form=``):

- VJP, autograd's curried form: ``lambda ans, *args, **kw: lambda g: ...``;
- VJP, chainrule's form: ``lambda g, ans, *args, **kw: ...`` (as ``Primitive.defvjp``);
- JVP: ``lambda g, ans, *args, **kw: ...`` (autograd's and chainrule's form are
  the same), the curried ``lambda ans, *args: lambda g: ...``, or ``"same"``
  for an input in which the function is linear (apply it to the tangent).

A rule is differentiated again (grad of grad, forward over reverse) when it
computes with ``chainrule.numpy`` (or cr's operations) rather than plain NumPy.
"""
import inspect

from .errors import RuleError
from .primitive import Each, Primitive
from .primitive import primitive as _cr_primitive

__all__ = ["primitive", "defvjp", "defjvp", "defvjp_argnum", "defjvp_argnum", "def_linear",
           "Primitive"]

_FORMS = ("autograd", "chainrule")


def primitive(fun=None, *, name=None, broadcasts=False):
    """Decorator: a function on NumPy values becomes an operation with rules of its own."""
    return _cr_primitive(fun, name=name, broadcasts=broadcasts)


def _primitive_of(fun, where):
    if not isinstance(fun, Primitive):
        raise TypeError(f"chainrule.extend.{where}: {getattr(fun, '__name__', fun)!r} is not a "
                        f"primitive; decorate it with @chainrule.extend.primitive first")
    return fun


def _positional(f):
    """(number of positional parameters, whether it takes *args); None if not inspectable."""
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return None
    n, var = 0, False
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            var = True
        elif p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
    return n, var


def _form(rule, fun, form, where):
    """Which form a rule is written in: 'autograd' (curried) or 'chainrule'."""
    if form is not None:
        if form not in _FORMS:
            raise ValueError(f"chainrule.extend.{where}: form must be one of {_FORMS}, "
                             f"got {form!r}")
        return form
    r, f = _positional(rule), _positional(fun.fun)
    if r is None or f is None or r[1] or f[1]:
        raise RuleError(
            f"chainrule.extend.{where}({fun.name}, ...): cannot tell the rule's form from "
            f"its parameters (*args, or not inspectable); pass form='autograd' for "
            f"`lambda ans, *args: lambda g: ...` or form='chainrule' for "
            f"`lambda g, ans, *args: ...`")
    if r[0] == f[0] + 1:
        return "autograd"
    if r[0] == f[0] + 2:
        return "chainrule"
    raise RuleError(
        f"chainrule.extend.{where}({fun.name}, ...): a rule takes {r[0]} positional "
        f"parameters, but {fun.name} takes {f[0]}: write `lambda ans, <its {f[0]} arguments>: "
        f"lambda g: ...` (autograd) or `lambda g, ans, <its arguments>: ...` (chainrule)")


def _curried(maker):
    def rule(g, ans, *args, **kw):
        return maker(ans, *args, **kw)(g)
    return rule


def _same(fun, k):
    """The JVP of an input in which ``fun`` is linear: ``fun`` applied to the tangent there."""
    def rule(t, ans, *args, **kw):
        args = list(args)
        args[k] = t
        return fun(*args, **kw)
    return rule


def _placed(rules, argnums):
    """Rules for the given argument positions, None elsewhere (no gradient)."""
    if argnums is None:
        return list(rules)
    argnums = tuple(argnums)
    if len(argnums) != len(rules):
        raise ValueError(f"chainrule.extend: {len(rules)} rules for argnums={argnums}")
    out = [None] * (max(argnums) + 1 if argnums else 0)
    for k, r in zip(argnums, rules):
        out[k] = r
    return out


def defvjp(fun, *rules, argnums=None, form=None):
    """Register a VJP rule per positional input (None: no gradient), autograd's or chainrule's form."""
    fun = _primitive_of(fun, "defvjp")
    made = [r if r is None else (_curried(r) if _form(r, fun, form, "defvjp") == "autograd"
                                 else r) for r in rules]
    fun.defvjp(*_placed(made, argnums))


def defjvp(fun, *rules, argnums=None, form=None):
    """Register a JVP rule per positional input: ``lambda g, ans, *args: ...``, curried, or 'same'."""
    fun = _primitive_of(fun, "defjvp")
    positions = range(len(rules)) if argnums is None else argnums
    made = []
    for k, r in zip(positions, rules):
        if isinstance(r, str):
            if r != "same":
                raise ValueError(f"chainrule.extend.defjvp: the only named rule is 'same', "
                                 f"got {r!r}")
            made.append(_same(fun, k))
        elif r is None:
            made.append(None)
        else:
            made.append(_curried(r) if _form(r, fun, form, "defjvp") == "autograd" else r)
    fun.defjvp(*_placed(made, argnums))


def _set_each(fun, attr, factory):
    """One rule per positional input of ``fun`` (however many, for a variadic one)."""
    n = _positional(fun.fun)
    if n is None or n[1]:
        setattr(fun, attr, Each(factory))  # as ops/shape.py's concatenate does
    else:
        getattr(fun, "def" + attr[:-1])(*[factory(k) for k in range(n[0])])


def defvjp_argnum(fun, vjpmaker):
    """autograd's ``defvjp_argnum``: ``vjpmaker(argnum, ans, args, kwargs)`` returns ``g -> ...``."""
    fun = _primitive_of(fun, "defvjp_argnum")

    def factory(k):
        return lambda g, ans, *args, **kw: vjpmaker(k, ans, args, kw)(g)
    _set_each(fun, "vjps", factory)


def defjvp_argnum(fun, jvpmaker):
    """autograd's ``defjvp_argnum``: ``jvpmaker(argnum, g, ans, args, kwargs)``."""
    fun = _primitive_of(fun, "defjvp_argnum")

    def factory(k):
        return lambda g, ans, *args, **kw: jvpmaker(k, g, ans, args, kw)
    _set_each(fun, "jvps", factory)


def def_linear(fun):
    """autograd's ``def_linear``: ``fun`` is linear in each input; its JVP applies it to the tangent."""
    fun = _primitive_of(fun, "def_linear")
    _set_each(fun, "jvps", lambda k: _same(fun, k))
