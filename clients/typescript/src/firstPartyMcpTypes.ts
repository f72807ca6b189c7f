/** One entry of the first-party MCP registry (the AuthKit integration plan's `FIRST_PARTY_MCPS`). */
export interface FirstPartyMcp {
  /** Display name, e.g. `Atoms MCP`. */
  readonly name: string;
  /** The MCP endpoint as configured in `services/atoms_grpc/atoms_grpc/first_party_mcps.json` (the agent may override it per deployment). */
  readonly url: string;
  /** The MCP transport; the agent speaks streamable HTTP only. */
  readonly transport: "streamable_http";
  /** Always `system`: first-party servers come from configuration, never from users. */
  readonly scope: "system";
  /** `internal`: the signed-in user's own token is sent; `none`: no credentials. */
  readonly auth: "internal" | "none";
  /** Whether calls need the signed-in user's token. */
  readonly requiresUserToken: boolean;
}
