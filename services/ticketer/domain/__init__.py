"""The ticketer's pure domain: parsing, classification and body handling of inbound mail.

Plain functions over plain data; nothing here performs I/O or imports a broker, HTTP or
database library.
"""
