"""Ingest: read documents, clean and extract metadata, analyse text, write index generations."""
