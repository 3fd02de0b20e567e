// Operator card panel of this feature (see web/README.md). Filled by the feature.
