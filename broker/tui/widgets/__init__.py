"""Reusable widgets: header, status line, the virtualised role list."""
