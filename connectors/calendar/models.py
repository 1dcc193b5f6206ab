"""Tables of the calendar connector."""
