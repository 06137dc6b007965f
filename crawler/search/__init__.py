"""Full-text search: the folded/stemmed index columns and the en/ru/hy query expansion."""
