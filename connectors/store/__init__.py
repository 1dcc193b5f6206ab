"""The private store: one SQLCipher-encrypted SQLite database, its key in the OS keyring."""
