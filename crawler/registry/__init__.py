"""The outlet registry: `sources.toml` loaded into frozen dataclasses, validated eagerly."""
