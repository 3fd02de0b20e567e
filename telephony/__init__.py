"""Asterisk AMI: the listener, the event normaliser, click-to-dial, and an AMI-speaking simulator.

Only this package sees raw AMI messages; the rest of the system gets the dataclasses of
``telephony.events``.
"""
