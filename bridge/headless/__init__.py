"""Notebooks without an editor: `nbbridge run` and the file handling it shares with export."""
