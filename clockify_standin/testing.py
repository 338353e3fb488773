"""pytest fixtures for the local Clockify stand-in (filled in by the stand-in work)."""
