"""The exceptions chainrule raises for things a user can cause.

Each subclasses the built-in exception a caller would expect (ValueError,
TypeError), so ``except ValueError`` keeps working, and each message names the
operation, the shapes involved and a likely fix.
"""


class ChainruleError(Exception):
    """Base class of every error raised on purpose by chainrule."""


class ShapeError(ChainruleError, ValueError):
    """An operation got operands whose shapes do not fit together."""


class NonScalarError(ChainruleError, ValueError):
    """A gradient was asked of a function whose output is not a scalar."""


class RuleError(ChainruleError, TypeError):
    """A derivative rule is missing or returned something of the wrong kind or shape."""


class MissingRuleError(RuleError):
    """A primitive has no derivative rule for the mode and input that were asked for."""


class GradcheckError(ChainruleError, AssertionError):
    """cr.gradcheck found a derivative that disagrees with finite differences."""


class JitError(ChainruleError, TypeError):
    """cr.jit met something a recorded program cannot replay (a value read into Python)."""
