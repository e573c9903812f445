"""Neural networks: modules with named parameters, the notes' MLP, losses, initialisers,
training/evaluation loops and saving models to .npz.

Example (the notes' network, trained one random example at a time):
    >>> import numpy as np, chainrule as cr
    >>> net = cr.nn.MLP([4, 8, 3], activation="tanh", seed=0)       # W, b, V, gamma
    >>> opt = cr.optim.SGD(net.parameters(), lr=0.1)
    >>> x, y = np.ones(4), 2
    >>> loss = cr.nn.cross_entropy(net(x), y)                          # o = -q_y
    >>> loss.backward(); opt.step(); net.zero_grad()
"""

from . import init
from .functional import (ACTIVATIONS, cross_entropy, get_activation, log_softmax, nll_loss,
                         relu, sigmoid, tanh)
from .init import glorot_normal, glorot_uniform, he_normal, he_uniform
from .module import MLP, Linear, Module
from .serialize import ModelFileError, load_model, save_model
from .training import (NonFiniteLossError, confusion_matrix, evaluate, evaluate_sums,
                       predict_scores, train_epoch)

__all__ = [
    "ACTIVATIONS", "Linear", "MLP", "Module", "ModelFileError", "NonFiniteLossError",
    "confusion_matrix", "cross_entropy", "evaluate", "evaluate_sums", "get_activation",
    "glorot_normal", "glorot_uniform", "he_normal", "he_uniform", "init", "load_model",
    "log_softmax", "nll_loss", "predict_scores", "relu", "save_model", "sigmoid", "tanh",
    "train_epoch",
]
