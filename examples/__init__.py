"""Example services built on the Atoms kit (`services.atoms_grpc`); see docs/adding-a-service.md."""
