"""Optimisers and learning-rate schedules.

Example:
    >>> import chainrule as cr
    >>> net = cr.nn.MLP([64, 32, 10])
    >>> opt = cr.optim.SGD(net.parameters(), lr=cr.optim.InverseTime(0.05, tau=5000))
    >>> # loss.backward(); opt.step(); opt.zero_grad()    -- or --   opt.step(grads)
"""

from .optimizers import SGD, Adam, Optimizer
from .schedules import SCHEDULES, Constant, Cosine, InverseTime, Schedule, StepDecay, make_schedule

__all__ = ["SGD", "Adam", "Optimizer", "SCHEDULES", "Constant", "Cosine", "InverseTime",
           "Schedule", "StepDecay", "make_schedule"]
