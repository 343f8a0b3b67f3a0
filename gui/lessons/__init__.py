"""The Lessons panel: plays, records and edits lesson files (core.training.lessons)."""
