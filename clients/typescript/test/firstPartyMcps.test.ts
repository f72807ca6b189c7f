import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import { FIRST_PARTY_MCPS, findFirstPartyMcp, isFirstPartyMcp } from "../src/index.js";

// Compiled to dist/test/: the package root is two levels up.
const PACKAGE_ROOT = new URL("../../", import.meta.url);
const GENERATOR = new URL("scripts/generate-first-party-mcps.mjs", PACKAGE_ROOT);
const GENERATED = fileURLToPath(new URL("src/firstPartyMcps.generated.ts", PACKAGE_ROOT));
const AGENT_LIST = fileURLToPath(new URL("../../services/atoms_grpc/atoms_grpc/first_party_mcps.json", PACKAGE_ROOT));

interface Generator {
  renderFirstPartyMcpsModule(document: unknown): string;
}
const generator = (await import(GENERATOR.href)) as Generator;

describe("FIRST_PARTY_MCPS", () => {
  test("the committed generated module matches the agent's first_party_mcps.json", () => {
    const fresh = generator.renderFirstPartyMcpsModule(JSON.parse(readFileSync(AGENT_LIST, "utf8")));
    assert.equal(readFileSync(GENERATED, "utf8"), fresh, "stale: run `npm run generate` in clients/typescript");
  });

  test("holds the same ids and URLs as the agent's list", () => {
    const agentList = JSON.parse(readFileSync(AGENT_LIST, "utf8")) as Record<string, { url: string }>;
    assert.deepEqual(Object.keys(FIRST_PARTY_MCPS), Object.keys(agentList));
    for (const [id, entry] of Object.entries(agentList)) {
      assert.equal(findFirstPartyMcp(id)?.url, entry.url);
    }
  });

  test("atoms is the AuthKit integration plan's Atoms MCP: system scope, internal auth, requires the user token", () => {
    const atoms = FIRST_PARTY_MCPS.atoms;
    assert.equal(atoms.name, "Atoms MCP");
    assert.equal(atoms.scope, "system");
    assert.equal(atoms.auth, "internal");
    assert.equal(atoms.requiresUserToken, true);
    assert.equal(atoms.transport, "streamable_http");
  });

  test("cannot be changed at run time", () => {
    const registry = FIRST_PARTY_MCPS as unknown as Record<string, unknown>;
    assert.throws(() => {
      registry["evil"] = { url: "https://evil.example/mcp" };
    }, TypeError);
    assert.throws(() => {
      (FIRST_PARTY_MCPS.atoms as unknown as { url: string }).url = "https://evil.example/mcp";
    }, TypeError);
  });

  for (const id of ["constructor", "__proto__", "toString", "hasOwnProperty", "atoms-mcp", "ATOMS", ""]) {
    test(`does not treat ${JSON.stringify(id)} as a first-party id`, () => {
      assert.equal(findFirstPartyMcp(id), undefined);
      assert.equal(isFirstPartyMcp(id), false);
    });
  }
});

describe("the generator", () => {
  test("fills in the defaults the agent's loader uses", () => {
    const text = generator.renderFirstPartyMcpsModule({ docs: { url: "https://docs.example/mcp" } });
    assert.match(text, /"name": "docs"/);
    assert.match(text, /"auth": "internal"/);
    assert.match(text, /"requiresUserToken": true/);
  });

  const refused: ReadonlyArray<[string, unknown, RegExp]> = [
    ["a list instead of an object", [], /JSON object keyed by server name/],
    ["an entry that is not an object", { atoms: "x" }, /must be an object/],
    ["a URL that is not http(s)", { atoms: { url: "ftp://x.example/mcp" } }, /url must be an http\(s\) URL/],
    ["a missing URL", { atoms: {} }, /url must be an http\(s\) URL/],
    ["another transport", { atoms: { url: "https://x.example", transport: "sse" } }, /streamable_http/],
    ["another auth", { atoms: { url: "https://x.example", auth: "oauth" } }, /auth must be internal or none/],
    ["a non-boolean requiresUserToken", { atoms: { url: "https://x.example", requiresUserToken: "no" } }, /true or false/],
  ];
  for (const [what, document, message] of refused) {
    test(`refuses ${what}`, () => {
      assert.throws(() => generator.renderFirstPartyMcpsModule(document), message);
    });
  }
});
