"""Topic suggestion for request notes: topics (stable codes), bootstrap corpus, model, evaluation, model
versions and emerging-topic discovery. See classifier/README.md."""
