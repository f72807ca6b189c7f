"use server";
/**
 * Server actions of the pages. Sign-out ends the AuthKit session (its refresh token stops
 * working) and returns to this app's home page.
 */
import { signOut } from "@workos-inc/authkit-nextjs";

import { REDIRECT_URI_VARIABLE, requiredUrlSetting } from "../lib/settings";

export async function signOutAction(): Promise<void> {
  const home = new URL("/", requiredUrlSetting(REDIRECT_URI_VARIABLE));
  await signOut({ returnTo: home.href });
}
