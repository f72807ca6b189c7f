/**
 * The first-party MCP registry of this app: the servers that may receive the signed-in user's
 * token, from the same generated module as `@atoms/agent-client` (itself generated from
 * services/atoms_grpc/atoms_grpc/first_party_mcps.json), with the Atoms MCP's URL overridable per environment.
 */
import { FIRST_PARTY_MCPS, type FirstPartyMcp, type FirstPartyMcpId } from "@atoms/agent-client";

import { optionalUrlSetting } from "../settings";

/** Overrides the Atoms MCP's URL of the generated list (e.g. `https://mcp.atoms.tech/api/mcp`). */
export const ATOMS_MCP_URL_VARIABLE = "ATOMS_MCP_URL";

export type { FirstPartyMcp, FirstPartyMcpId };
export type FirstPartyRegistry = Readonly<Record<FirstPartyMcpId, Readonly<FirstPartyMcp>>>;

/**
 * The first-party MCPs for this environment: the generated list, with `atoms.url` replaced by
 * `ATOMS_MCP_URL` when it is set. Read at call time, never at build time.
 *
 * @throws SettingError `ATOMS_MCP_URL` is set but is not an http(s) URL.
 */
export function firstPartyMcps(
  env: Readonly<Record<string, string | undefined>> = process.env,
): FirstPartyRegistry {
  const override = optionalUrlSetting(ATOMS_MCP_URL_VARIABLE, env);
  if (override === undefined) {
    return FIRST_PARTY_MCPS;
  }
  // Only the URL changes: the id, scope and auth (which decide who gets the token) stay generated.
  const atoms = Object.freeze({ ...FIRST_PARTY_MCPS.atoms, url: override.href });
  return Object.freeze({ ...FIRST_PARTY_MCPS, atoms });
}

/** Whether `mcpId` names a first-party MCP (an own key of the registry, never an inherited one). */
export function isFirstPartyMcpId(mcpId: string): mcpId is FirstPartyMcpId {
  return Object.hasOwn(FIRST_PARTY_MCPS, mcpId);
}
