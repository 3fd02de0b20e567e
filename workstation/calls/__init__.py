"""Calls: live call state from telephony events, screen pops, after-call work."""
