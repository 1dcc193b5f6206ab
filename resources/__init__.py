"""Icons, default prompts and other assets shipped with the app."""
