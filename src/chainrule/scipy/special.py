"""chainrule.scipy.special: differentiable scipy.special (being written); other names pass through."""
from . import passthrough

__getattr__ = passthrough("special")
