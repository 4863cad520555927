"""The setup check of a mailbox: its steps (:mod:`.steps`), their fixes (:mod:`.fixes`) and
the runner (:mod:`.runner`), shared by ``mailpipe doctor`` and the console's "Test connection"
(docs/doctor.md)."""
