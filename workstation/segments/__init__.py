"""The segments feature: anonymised segmentation exports run by the workstation (see ``anonymizer``)."""
