"""Text from the bytes of mail, whatever their charset label says (docs/classification.md,
"Charsets"): used alike by the Graph simulator, which converts mail as Exchange does, and by
the ticketer's own MIME parsing.

- :mod:`.labels`: MIME charset labels → Python codecs, and the ``<meta>`` charset of HTML;
- :mod:`.charsets`: bytes under a label (or none) → text, header octets, encoded words;
- :mod:`.detect`: text of bytes without a usable label, by detection;
- :mod:`.score`: how natural a decoded text looks, the judge between candidate charsets.

Everything here is pure (no I/O) and never raises on content.
"""
