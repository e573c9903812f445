"""chainrule.scipy.signal: differentiable scipy.signal (being written); other names pass through."""
from . import passthrough

__getattr__ = passthrough("signal")
