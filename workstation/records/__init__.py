"""Request records (обращения): topic tree, records with suggestions and outcomes, statistics, emerging
topics, and the workstation side of the classifier (``wiring.install`` registers it all)."""
