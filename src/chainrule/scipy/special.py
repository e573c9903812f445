"""chainrule.scipy.special: differentiable scipy.special (placeholder, being written)."""
