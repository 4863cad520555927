"""The sender's pure domain: send-as policy, job checks, MIME building, size paths, rate limit.

Plain functions over plain data; nothing here performs I/O or imports a broker, HTTP or
database library. ``docs/sending.md`` describes the rules these modules implement.
"""
