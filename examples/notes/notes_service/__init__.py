"""notes: a small gRPC service on the Atoms kit; notes scoped to the caller's organization.

Run it with `python -m notes_service serve`; docs/adding-a-service.md walks through it.
"""
