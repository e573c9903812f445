"""chainrule.scipy.signal: differentiable scipy.signal (placeholder, being written)."""
