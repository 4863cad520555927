"""Text from the bytes of mail, whatever their charset label says (docs/classification.md,
"Parsing" and "Charsets"): used alike by the Graph simulator, which converts mail as Exchange
does, the Gmail adapter, which reads Gmail's raw MIME, and the ticketer's own MIME parsing, so
that one mail reads the same whichever provider served it.

- :mod:`.headblock`: a header block with odd syntax mended before parsing;
- :mod:`.mimetree`: the MIME tree with its nesting cut, the body, each leaf's bytes and text;
- :mod:`.transfer`: a part's bytes with its (possibly broken) transfer encoding undone;
- :mod:`.headers`: header values as text, address lists as (name, address) pairs;
- :mod:`.labels`: MIME charset labels → Python codecs, and the ``<meta>`` charset of HTML;
- :mod:`.charsets`: bytes under a label (or none) → text, header octets, encoded words;
- :mod:`.detect`: text of bytes without a usable label, by detection;
- :mod:`.score`: how natural a decoded text looks, the judge between candidate charsets;
- :mod:`.html`, :mod:`.safe_html`: the text of an HTML body, and HTML safe to show.

Everything here is pure (no I/O) and never raises on content.
"""
