"""chainrule.scipy.integrate: differentiable scipy.integrate (being written); other names pass through."""
from . import passthrough

__getattr__ = passthrough("integrate")
