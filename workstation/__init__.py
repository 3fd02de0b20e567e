"""Telecom contact-center operator workstation: the FastAPI app, service layer, domain model, CLI."""

__version__ = "0.1.0"
