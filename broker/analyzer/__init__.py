"""Access analysis and governance reports."""
