"""Tables of the notes connector."""
