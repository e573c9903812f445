"""chainrule.scipy.stats: differentiable scipy.stats (being written); other names pass through."""
from . import passthrough

__getattr__ = passthrough("stats")
