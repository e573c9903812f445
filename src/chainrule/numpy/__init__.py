"""chainrule.numpy: NumPy's namespace, differentiable (being written)."""
