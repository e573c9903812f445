"""chainrule.scipy.integrate: differentiable scipy.integrate (placeholder, being written)."""
