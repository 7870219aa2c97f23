"""One screen per pane of the workstation (Textual MODES)."""
