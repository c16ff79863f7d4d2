"""Business logic, one module per area. Services take an actor and plain data, commit once, and
know nothing of the request."""
