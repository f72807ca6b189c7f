import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { InvalidAccessTokenError, getMCPAuthHeaders, type SessionSource } from "../src/index.js";

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2lnbmF0dXJl";

/** A session source that counts its calls. */
function countingSession(accessToken: string | null | undefined): SessionSource & { calls: number } {
  const source = Object.assign(() => {
    source.calls += 1;
    return accessToken === undefined ? undefined : { accessToken };
  }, { calls: 0 });
  return source;
}

describe("getMCPAuthHeaders", () => {
  test("gives a first-party MCP the session's token as a bearer header", async () => {
    assert.deepEqual(await getMCPAuthHeaders("atoms", () => ({ accessToken: TOKEN })), {
      Authorization: `Bearer ${TOKEN}`,
    });
  });

  test("accepts an async session source, as authkit-nextjs withAuth is", async () => {
    const withAuth = async (): Promise<{ accessToken: string; user: { id: string } }> => ({
      accessToken: TOKEN,
      user: { id: "user_1" },
    });
    assert.deepEqual(await getMCPAuthHeaders("atoms", withAuth), { Authorization: `Bearer ${TOKEN}` });
  });

  const noToken: ReadonlyArray<[string, SessionSource]> = [
    ["no session", () => undefined],
    ["a null session", () => null],
    ["a session without a token", () => ({})],
    ["a session with a null token", () => ({ accessToken: null })],
    ["a session with an empty token", () => ({ accessToken: "" })],
  ];
  for (const [what, session] of noToken) {
    test(`gives no header for ${what}`, async () => {
      assert.deepEqual(await getMCPAuthHeaders("atoms", session), {});
    });
  }

  for (const id of ["atoms-mcp", "atoms_mcp", "Atoms", "github", "constructor", "__proto__", ""]) {
    test(`never gives a header to ${JSON.stringify(id)}, nor asks for the session`, async () => {
      const session = countingSession(TOKEN);
      assert.deepEqual(await getMCPAuthHeaders(id, session), {});
      assert.equal(session.calls, 0);
    });
  }

  test("refuses a token that would inject another header, without echoing it", async () => {
    const injected = `${TOKEN}\r\nX-Admin: yes`;
    await assert.rejects(
      getMCPAuthHeaders("atoms", () => ({ accessToken: injected })),
      (error: unknown) => error instanceof InvalidAccessTokenError && !error.message.includes(TOKEN),
    );
  });
});
