"""152-FZ depersonalisation of billing aggregates for marketing segmentation, and the free-text PII scrubber.

* ``scrubber`` — ``scrub(text)`` / ``find_pii(text)``: names, phones, e-mails, passports, SNILS, INN, cards,
  addresses, account and contract numbers (``pii_accounts``: formats from the billing mapping), birth dates
  (``pii_dates``) → typed placeholders; offline (natasha + pymorphy3 ship their models in their packages).
* ``source`` / ``aggregate`` — chunked reads of the billing batch queries, per-subscriber aggregates.
* ``pseudonyms`` / ``depersonalise`` — HMAC pseudonyms, generalisation, k-anonymity, shuffling; each rule
  names the RKN order No. 996 method it implements.
* ``release`` / ``microaggregation`` — the released record: quasi-identifiers generalised, every behaviour
  column replaced by the centroid of a group of ≥ k subscribers holding ≥ l ARPU bands, so the *whole*
  record is k-anonymous (152-FZ art. 3 p. 9; RKN order No. 996: changing semantics and composition).
* ``risk`` — ARX-style prosecutor risk, l-diversity and t-closeness measured on the released file.
* ``ledger`` — every release recorded; an overlapping one whose joint classes fall below k is refused
  (the 2025 amendments after 233-FZ: depersonalised sets must not recombine into identities).
* ``segmentation`` — ARPU value tiers and behaviour clusters with profiles.
* ``export`` — the bundle (Parquet, CSV, segments, manifest with the privacy report), written atomically.
* ``relink`` — back from a segment to subscriber ids, inside the workstation only.
"""
