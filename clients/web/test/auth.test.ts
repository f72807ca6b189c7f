import { InvalidAccessTokenError } from "@atoms/agent-client";
import { beforeEach, describe, expect, it, vi } from "vitest";

const withAuth = vi.fn();
vi.mock("@workos-inc/authkit-nextjs", () => ({ withAuth: () => withAuth() }));

const { currentSession, getMCPAuthHeaders } = await import("../src/lib/mcp/auth");

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyX2FkYSJ9.c2lnbmF0dXJl";
const ADA = {
  user: { id: "user_ada", email: "ada@acme.test", firstName: "Ada", lastName: "Lovelace" },
  organizationId: "org_acme",
  role: "admin",
  accessToken: TOKEN,
};

beforeEach(() => {
  withAuth.mockReset();
});

describe("getMCPAuthHeaders", () => {
  it("gives the Atoms MCP the signed-in user's AuthKit access token", async () => {
    withAuth.mockResolvedValue(ADA);

    expect(await getMCPAuthHeaders("atoms")).toEqual({ Authorization: `Bearer ${TOKEN}` });
  });

  it.each(["atoms-mcp", "github", "constructor", ""])("gives %j nothing and does not read the session", async (id) => {
    withAuth.mockResolvedValue(ADA);

    expect(await getMCPAuthHeaders(id)).toEqual({});
    expect(withAuth).not.toHaveBeenCalled();
  });

  it("gives nothing when nobody is signed in", async () => {
    withAuth.mockResolvedValue({ user: null });

    expect(await getMCPAuthHeaders("atoms")).toEqual({});
  });

  it("refuses a token that cannot be a bearer token, without echoing it", async () => {
    withAuth.mockResolvedValue({ ...ADA, accessToken: `${TOKEN}\r\nX-Injected: yes` });

    const refusal = getMCPAuthHeaders("atoms");
    await expect(refusal).rejects.toBeInstanceOf(InvalidAccessTokenError);
    await expect(refusal).rejects.not.toThrow(/X-Injected|eyJ/);
  });
});

describe("currentSession", () => {
  it("is who is signed in, from withAuth on the server", async () => {
    withAuth.mockResolvedValue(ADA);

    expect(await currentSession()).toEqual({
      userId: "user_ada",
      email: "ada@acme.test",
      name: "Ada Lovelace",
      organizationId: "org_acme",
      role: "admin",
      accessToken: TOKEN,
    });
  });

  it("is undefined without a user or without an access token", async () => {
    withAuth.mockResolvedValueOnce({ user: null });
    withAuth.mockResolvedValueOnce({ ...ADA, accessToken: "" });

    expect(await currentSession()).toBeUndefined();
    expect(await currentSession()).toBeUndefined();
  });
});
