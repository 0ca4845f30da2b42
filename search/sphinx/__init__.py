"""The SphinxQL cluster backend: the same requests and results as search/engine.py."""
