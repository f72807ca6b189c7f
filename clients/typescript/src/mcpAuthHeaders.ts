/**
 * The signed-in user's `Authorization` header, for first-party MCP servers only.
 *
 * The session comes from an injected function, so an app on `@workos-inc/authkit-nextjs`
 * passes its `withAuth` (or `getSession`) and this package never depends on Next.js.
 */
import { findFirstPartyMcp } from "./firstPartyMcps.js";

/** What a session source returns: at least the user's AuthKit access token, when signed in. */
export interface Session {
  readonly accessToken?: string | null | undefined;
}

/** Returns the current session, or nothing when nobody is signed in; may be async. */
export type SessionSource = () => Session | null | undefined | Promise<Session | null | undefined>;

/** Either exactly `{ Authorization: "Bearer <token>" }` or no header at all. */
export type AuthHeaders = { readonly Authorization: `Bearer ${string}` } | Readonly<Record<string, never>>;

// RFC 6750 b64token: what a bearer credential may contain (a JWT always fits). Anything else
// would be a header-injection attempt or a bug, and must not reach the wire.
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The session's token is present but cannot be a bearer token. */
export class InvalidAccessTokenError extends TypeError {
  constructor() {
    // The token itself is never part of the message.
    super("the session's accessToken is not a valid bearer token (RFC 6750 b64token)");
    this.name = "InvalidAccessTokenError";
  }
}

/**
 * `{ Authorization: "Bearer <accessToken>" }` from the session, or `{}` when it has no token.
 *
 * @throws InvalidAccessTokenError the token holds characters no bearer token may contain.
 */
export async function getBearerHeaders(session: SessionSource | undefined): Promise<AuthHeaders> {
  const current = session === undefined ? undefined : await session();
  const token = current?.accessToken;
  if (typeof token !== "string" || token.length === 0) {
    return {};
  }
  if (!BEARER_TOKEN.test(token)) {
    throw new InvalidAccessTokenError();
  }
  return { Authorization: `Bearer ${token}` };
}

/**
 * The headers to send to the MCP `mcpId` on the signed-in user's behalf.
 *
 * A first-party MCP whose registry entry says `auth: "internal"` and `requiresUserToken`
 * gets `Authorization: Bearer <accessToken>` when the session has a token. Anything else
 * (an unknown id, a third-party server, a lookalike name such as `atoms-mcp`, no session)
 * gets `{}`; for those the session source is not even called.
 *
 * @throws InvalidAccessTokenError the token holds characters no bearer token may contain.
 */
export async function getMCPAuthHeaders(mcpId: string, session: SessionSource): Promise<AuthHeaders> {
  const entry = findFirstPartyMcp(mcpId);
  if (entry === undefined || entry.auth !== "internal" || !entry.requiresUserToken) {
    return {};
  }
  return getBearerHeaders(session);
}
