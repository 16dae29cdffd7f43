"""Errors that reject a whole landing file. Messages never include the data file's path:
the loader prefixes it, relative to the landing folder, so every message names the file."""


class FileRejected(Exception):
    """The file as a whole cannot be landed."""
