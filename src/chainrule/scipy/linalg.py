"""chainrule.scipy.linalg: differentiable scipy.linalg (being written); other names pass through."""
from . import passthrough

__getattr__ = passthrough("linalg")
