"""152-FZ depersonalisation of billing aggregates for marketing segmentation, and the free-text PII scrubber.

* ``scrubber`` — ``scrub(text)`` / ``find_pii(text)``: names, phones, e-mails, passports, SNILS, INN, cards,
  addresses → typed placeholders; offline (natasha + pymorphy3 ship their models in their packages).
* ``source`` / ``aggregate`` — chunked reads of the billing batch queries, per-subscriber aggregates.
* ``pseudonyms`` / ``depersonalise`` — HMAC pseudonyms, generalisation, k-anonymity, l-diversity, shuffling;
  each rule names the RKN order No. 996 method it implements.
* ``segmentation`` — ARPU value tiers and behaviour clusters with profiles.
* ``export`` — the bundle (Parquet, CSV, segments, manifest with the privacy report), written atomically.
* ``relink`` — back from a segment to subscriber ids, inside the workstation only.
"""
