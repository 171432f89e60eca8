"""Cloud resources, one module per kind, each found, diffed, applied and deleted by tag."""
