/** `GET /login`: to AuthKit's hosted login (PKCE S256 and a sealed state, set as a cookie by authkit-nextjs). */
import { getSignInUrl } from "@workos-inc/authkit-nextjs";
import { redirect } from "next/navigation";

export const dynamic = "force-dynamic";

export async function GET(): Promise<never> {
  redirect(await getSignInUrl());
}
