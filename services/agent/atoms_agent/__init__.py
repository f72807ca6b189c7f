"""The Atoms agent service: composes a caller's MCP servers and calls their tools for them."""
