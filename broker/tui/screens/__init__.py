"""One screen per module (docs/style.md rule 13)."""
