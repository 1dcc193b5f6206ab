"""The assistant: settings, data directory, command line; later the turn loop and Qt front end."""

__version__ = "0.1.0"
