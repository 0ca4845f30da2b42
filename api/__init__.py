"""HTTP and command line: the Flask app factory, schemas, errors, pages and the `sift` CLI."""
