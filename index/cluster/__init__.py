"""Sift on a SphinxQL cluster (Sphinx 2.2 here, Manticore in production): its layout, its
daemons and its write side. The read side is search/sphinx/."""
