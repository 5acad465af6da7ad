"""Linkage: the Splink 5 model over encodings, runs, and their evaluation.

This stage reads encodings only and never imports the hub: the hub hands it file paths.
"""
