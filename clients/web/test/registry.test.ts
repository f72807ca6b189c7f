import { FIRST_PARTY_MCPS } from "@atoms/agent-client";
import { describe, expect, it } from "vitest";

import { ATOMS_MCP_URL_VARIABLE, firstPartyMcps, isFirstPartyMcpId } from "../src/lib/mcp/registry";
import { SettingError } from "../src/lib/settings";

describe("firstPartyMcps", () => {
  it("is the list generated from services/atoms_grpc/atoms_grpc/first_party_mcps.json when nothing overrides it", () => {
    const registry = firstPartyMcps({});

    expect(registry).toBe(FIRST_PARTY_MCPS);
    expect(registry.atoms).toMatchObject({ auth: "internal", requiresUserToken: true, scope: "system" });
  });

  it("takes the Atoms MCP's URL of this environment from ATOMS_MCP_URL, and nothing else", () => {
    const registry = firstPartyMcps({ [ATOMS_MCP_URL_VARIABLE]: "https://mcp.atoms.example/api/mcp" });

    expect(registry.atoms.url).toBe("https://mcp.atoms.example/api/mcp");
    expect({ ...registry.atoms, url: FIRST_PARTY_MCPS.atoms.url }).toEqual(FIRST_PARTY_MCPS.atoms);
    expect(Object.keys(registry)).toEqual(Object.keys(FIRST_PARTY_MCPS));
    expect(Object.isFrozen(registry) && Object.isFrozen(registry.atoms)).toBe(true);
    expect(FIRST_PARTY_MCPS.atoms.url).toBe("http://127.0.0.1:8000/api/mcp"); // the generated list is untouched
  });

  it.each(["not a url", "ftp://mcp.atoms.example/api/mcp", "javascript:alert(1)"])(
    "refuses ATOMS_MCP_URL=%s with an error naming the variable",
    (value) => {
      expect(() => firstPartyMcps({ [ATOMS_MCP_URL_VARIABLE]: value })).toThrowError(SettingError);
      expect(() => firstPartyMcps({ [ATOMS_MCP_URL_VARIABLE]: value })).toThrowError(/^ATOMS_MCP_URL /);
    },
  );

  it("reads the environment at call time, not at import", () => {
    process.env[ATOMS_MCP_URL_VARIABLE] = "http://127.0.0.1:18000/api/mcp";
    try {
      expect(firstPartyMcps().atoms.url).toBe("http://127.0.0.1:18000/api/mcp");
    } finally {
      delete process.env[ATOMS_MCP_URL_VARIABLE];
    }
    expect(firstPartyMcps().atoms.url).toBe(FIRST_PARTY_MCPS.atoms.url);
  });
});

describe("isFirstPartyMcpId", () => {
  it.each([
    ["atoms", true],
    ["atoms-mcp", false],
    ["constructor", false],
    ["__proto__", false],
  ])("%s -> %s", (id, expected) => {
    expect(isFirstPartyMcpId(id)).toBe(expected);
  });
});
