/**
 * `GET /callback`: AuthKit sends the browser here with a code; authkit-nextjs exchanges it
 * (with the PKCE verifier of its sealed state), seals the session in a cookie and returns home.
 *
 * Home is the origin of NEXT_PUBLIC_WORKOS_REDIRECT_URI, read per request: the request's own
 * URL will not do, since Next.js names a loopback host `localhost` (the cookie was set for the
 * host the browser used).
 */
import { handleAuth } from "@workos-inc/authkit-nextjs";
import type { NextRequest } from "next/server";

import { REDIRECT_URI_VARIABLE, requiredUrlSetting } from "../../lib/settings";

export const dynamic = "force-dynamic";

export async function GET(request: NextRequest): Promise<Response> {
  const home = new URL("/", requiredUrlSetting(REDIRECT_URI_VARIABLE));
  return handleAuth({ returnPathname: "/", baseURL: home.origin })(request);
}
