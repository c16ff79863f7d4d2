"""Business logic, one module (or small package) per area.

Each entry point takes the acting user first and plain data after, declares who may call it
(`access.allow`), checks the object rules of `policies.py`, and flushes; it never commits and
knows nothing of the request. The request's unit of work commits once (`api/unit_of_work.py`).
"""
