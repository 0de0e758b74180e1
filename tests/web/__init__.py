"""The offline playground page and its assets."""
