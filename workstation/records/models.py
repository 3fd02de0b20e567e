"""Tables of this feature (on workstation.db.Base)."""
