"""One screen per module (STYLE.md rule 13)."""
