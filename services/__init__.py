"""Atoms services: the auth, agent and MCP services and the kit they share."""
