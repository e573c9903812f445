"""chainrule.scipy.linalg: differentiable scipy.linalg (placeholder, being written)."""
