"""chainrule.scipy.stats: differentiable scipy.stats (placeholder, being written)."""
