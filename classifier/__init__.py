"""(feature package; see its issue)."""
