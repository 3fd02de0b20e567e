"""Callbacks as tasks: "call back" with a time, the subscriber and the record, reminders when due."""
