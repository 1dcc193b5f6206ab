"""Scoring the assistant's tool calls on the Berkeley Function Calling Leaderboard (BFCL) data."""
