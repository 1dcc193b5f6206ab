"""Tools the model may call (calendar, notes, files) and the private store they run against."""
