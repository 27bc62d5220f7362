"""Errors that reach the user as one clear line (the CLI prints them and exits with code 2)."""


class ChoreoError(Exception):
    """A problem with the user's input, files or setup, phrased for the user."""
