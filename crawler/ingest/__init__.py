"""Pages into the archive: the one extraction path, WARC import/export, re-extraction, publish."""
