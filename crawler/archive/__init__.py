"""archive.db and its WARC captures: the only package that writes them."""
