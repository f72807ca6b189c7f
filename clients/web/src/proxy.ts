/**
 * The AuthKit proxy (Next 16's name for middleware) on every page and route: it reads the
 * sealed session cookie, refreshes an expired or expiring access token with the refresh token
 * (no prompt), and hands the session to `withAuth`. Its settings are read per request.
 */
import { authkitProxy } from "@workos-inc/authkit-nextjs";
import { NextResponse, type NextFetchEvent, type NextRequest } from "next/server";

import { REDIRECT_URI_VARIABLE, requiredSetting, requiredUrlSetting, SettingError } from "./lib/settings";

/** authkit-nextjs's documented settings this app cannot run without. */
const REQUIRED_AUTH_SETTINGS = ["WORKOS_CLIENT_ID", "WORKOS_API_KEY", "WORKOS_COOKIE_PASSWORD"] as const;
const MIN_COOKIE_PASSWORD_CHARS = 32;

export default async function proxy(request: NextRequest, event: NextFetchEvent): Promise<Response | undefined> {
  let redirectUri: URL;
  try {
    for (const variable of REQUIRED_AUTH_SETTINGS) {
      requiredSetting(variable);
    }
    if (requiredSetting("WORKOS_COOKIE_PASSWORD").length < MIN_COOKIE_PASSWORD_CHARS) {
      throw new SettingError("WORKOS_COOKIE_PASSWORD", `must be at least ${MIN_COOKIE_PASSWORD_CHARS} characters`);
    }
    redirectUri = requiredUrlSetting(REDIRECT_URI_VARIABLE);
  } catch (error) {
    if (!(error instanceof SettingError)) {
      throw error;
    }
    console.error(`web app: ${error.message}`);
    return NextResponse.json(
      { error: { code: "NOT_CONFIGURED", type: "failed_precondition", message: `the web app is not configured: ${error.message}` } },
      { status: 500, headers: { "cache-control": "no-store" } },
    );
  }
  return (await authkitProxy({ redirectUri: redirectUri.href })(request, event)) ?? undefined;
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico).*)"],
};
