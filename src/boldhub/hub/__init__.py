"""The hub zone: ingest packages, store them apart, link, audit, and release outcomes.

The hub never holds a linkage key and never sees an identifier in clear.
"""
