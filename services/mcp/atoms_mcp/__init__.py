"""The Atoms MCP service: FastMCP tools on the Atoms store, authenticated by the central auth service.

`atoms mcp serve` runs it (streamable HTTP at /api/mcp). Tokens are checked by
`AuthServiceTokenVerifier` (ValidateToken over gRPC), wrapped in `AtomsAuthProvider`
(RemoteAuthProvider: protected-resource metadata naming AuthKit, 401 / 403, and 503 when the
auth service is down). Tools work for the caller's organization only.
"""
