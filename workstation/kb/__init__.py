"""The knowledge-base feature on the workstation side: wiring, routes and commands around ``knowledge_base``."""
