"""The Textual terminal app (the only part of the broker that imports Textual)."""
