/**
 * The first-party MCP registry: the servers that may receive the signed-in user's token.
 *
 * Generated from `services/atoms_grpc/atoms_grpc/first_party_mcps.json`, the file the agent's own
 * configuration reads, so the front end and the agent agree on one list.
 */
import type { FirstPartyMcp } from "./firstPartyMcpTypes.js";
import { GENERATED_FIRST_PARTY_MCPS } from "./firstPartyMcps.generated.js";

export type { FirstPartyMcp } from "./firstPartyMcpTypes.js";

/** The id of a first-party MCP, e.g. `"atoms"`. */
export type FirstPartyMcpId = keyof typeof GENERATED_FIRST_PARTY_MCPS;

function freezeRegistry<T extends Record<string, FirstPartyMcp>>(registry: T): Readonly<T> {
  // Frozen at run time too: code that could add an entry could make any URL "first-party".
  for (const entry of Object.values(registry)) {
    Object.freeze(entry);
  }
  return Object.freeze(registry);
}

/** `atoms` → Atoms MCP (scope `system`, auth `internal`, requires the user token), and any other configured entry. */
export const FIRST_PARTY_MCPS = freezeRegistry(GENERATED_FIRST_PARTY_MCPS);

/** The registry entry for `mcpId`, or `undefined` for anything that is not a first-party id (inherited keys such as `constructor` included). */
export function findFirstPartyMcp(mcpId: string): FirstPartyMcp | undefined {
  return Object.hasOwn(FIRST_PARTY_MCPS, mcpId)
    ? (FIRST_PARTY_MCPS as Readonly<Record<string, FirstPartyMcp>>)[mcpId]
    : undefined;
}

/** Whether `mcpId` names a first-party MCP. */
export function isFirstPartyMcp(mcpId: string): mcpId is FirstPartyMcpId {
  return findFirstPartyMcp(mcpId) !== undefined;
}
