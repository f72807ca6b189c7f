/**
 * The signed-in user's `Authorization` header for first-party MCPs, from the AuthKit session on
 * the server (`withAuth` of authkit-nextjs). Server-side only: the token never reaches the page.
 */
import { getMCPAuthHeaders as headersForSession, type AuthHeaders } from "@atoms/agent-client";
import { withAuth } from "@workos-inc/authkit-nextjs";

/** What the app needs of the AuthKit session: who is signed in, and their access token. */
export interface SignedInSession {
  readonly userId: string;
  readonly email: string;
  readonly name: string;
  readonly organizationId: string | undefined;
  readonly role: string | undefined;
  readonly accessToken: string;
}

/** The current AuthKit session, or undefined when nobody is signed in. */
export async function currentSession(): Promise<SignedInSession | undefined> {
  const auth = await withAuth();
  if (auth.user === null || typeof auth.accessToken !== "string" || auth.accessToken === "") {
    return undefined;
  }
  const name = [auth.user.firstName, auth.user.lastName].filter(Boolean).join(" ");
  return {
    userId: auth.user.id,
    email: auth.user.email,
    name: name || auth.user.email,
    organizationId: auth.organizationId ?? undefined,
    role: auth.role ?? undefined,
    accessToken: auth.accessToken,
  };
}

/**
 * `{ Authorization: "Bearer <access token>" }` for a first-party MCP that takes the user's token
 * (today `atoms`), `{}` for any other id or when nobody is signed in.
 *
 * @throws InvalidAccessTokenError the session's token cannot be a bearer token.
 */
export async function getMCPAuthHeaders(mcpId: string): Promise<AuthHeaders> {
  return headersForSession(mcpId, currentSession);
}
