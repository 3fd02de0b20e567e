"""Test and benchmark data made by code: generated operator notes with known personal data, a topic model
trained once per process. Kept out of the packages so that nothing the product ships (the scrubber's
lexicons, the classifier) can lean on the generators that measure it."""
