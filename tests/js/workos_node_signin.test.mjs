// `@workos-inc/node` (the SDK `@workos-inc/authkit-nextjs` calls) against the local AuthKit,
// configured only through its documented settings, as authkit-nextjs passes them:
//   WORKOS_API_HOSTNAME, WORKOS_API_PORT, WORKOS_API_HTTPS=false, WORKOS_CLIENT_ID, WORKOS_API_KEY
// plus ATOMS_TEST_REDIRECT_URI (a redirect URI of the application) for the test itself.
// Run by tests/signin/test_workos_node_sdk.py with `node --test`; every case is one step of a
// person's session: authorize URL, code, sealed session, refresh, logout.
import assert from "node:assert/strict";
import { test } from "node:test";
import { WorkOS } from "@workos-inc/node";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { signInAtTheLoginPage } from "./login_page.mjs";

const clientId = process.env.WORKOS_CLIENT_ID;
const redirectUri = process.env.ATOMS_TEST_REDIRECT_URI;
const cookiePassword = "a-cookie-password-of-at-least-32-characters!";

// Exactly what authkit-nextjs's getWorkOS() builds from the environment.
function workosFromEnvironment(apiKey = process.env.WORKOS_API_KEY) {
  return new WorkOS(apiKey, {
    apiHostname: process.env.WORKOS_API_HOSTNAME,
    https: process.env.WORKOS_API_HTTPS ? process.env.WORKOS_API_HTTPS === "true" : true,
    port: process.env.WORKOS_API_PORT ? parseInt(process.env.WORKOS_API_PORT) : undefined,
    maxRetries: 0,
  });
}

async function signIn(workos, email, options = {}) {
  const pkce = await workos.pkce.generate();
  const url = workos.userManagement.getAuthorizationUrl({
    provider: "authkit",
    clientId,
    redirectUri,
    state: "state-of-the-app",
    codeChallenge: pkce.codeChallenge,
    codeChallengeMethod: pkce.codeChallengeMethod,
    ...options,
  });
  const back = await signInAtTheLoginPage(url, email);
  assert.equal(back.searchParams.get("state"), "state-of-the-app");
  return { code: back.searchParams.get("code"), codeVerifier: pkce.codeVerifier };
}

test("getAuthorizationUrl leads to the hosted login page listing the dev users", async () => {
  const workos = workosFromEnvironment();
  const url = workos.userManagement.getAuthorizationUrl({ provider: "authkit", clientId, redirectUri });

  const page = await fetch(url);

  assert.equal(page.status, 200);
  assert.match(await page.text(), /ada@acme\.test/);
});

test("authenticateWithCode returns the user, the organization and a token the JWKS verifies", async () => {
  const workos = workosFromEnvironment();
  const { code, codeVerifier } = await signIn(workos, "ada@acme.test");

  const auth = await workos.userManagement.authenticateWithCode({ clientId, code, codeVerifier });

  assert.equal(auth.user.id, "user_ada");
  assert.equal(auth.user.email, "ada@acme.test");
  assert.equal(auth.organizationId, "org_acme");
  assert.equal(auth.authenticationMethod, "MagicAuth");
  const jwks = createRemoteJWKSet(new URL(workos.userManagement.getJwksUrl(clientId)));
  const { payload, protectedHeader } = await jwtVerify(auth.accessToken, jwks);
  assert.equal(protectedHeader.alg, "RS256");
  assert.equal(payload.sub, "user_ada");
  assert.equal(payload.org_id, "org_acme");
  assert.equal(payload.exp - payload.iat, 300);
});

test("a sealed session, as authkit-nextjs keeps it in its cookie, authenticates and refreshes", async () => {
  const workos = workosFromEnvironment();
  const { code, codeVerifier } = await signIn(workos, "hedy@globex.test");
  const auth = await workos.userManagement.authenticateWithCode({
    clientId,
    code,
    codeVerifier,
    session: { sealSession: true, cookiePassword },
  });

  const session = workos.userManagement.loadSealedSession({ sessionData: auth.sealedSession, cookiePassword });
  const current = await session.authenticate();
  const refreshed = await session.refresh();

  assert.equal(current.authenticated, true);
  assert.equal(current.user.id, "user_hedy");
  assert.equal(current.organizationId, "org_globex");
  assert.equal(refreshed.authenticated, true);
  assert.equal(refreshed.sessionId, current.sessionId);
});

test("authenticateWithRefreshToken rotates: the old refresh token is refused with invalid_grant", async () => {
  const workos = workosFromEnvironment();
  const { code, codeVerifier } = await signIn(workos, "grace@acme.test");
  const first = await workos.userManagement.authenticateWithCode({ clientId, code, codeVerifier });

  const second = await workos.userManagement.authenticateWithRefreshToken({
    clientId,
    refreshToken: first.refreshToken,
  });

  assert.equal(second.user.id, "user_grace");
  assert.notEqual(second.refreshToken, first.refreshToken);
  await assert.rejects(
    workos.userManagement.authenticateWithRefreshToken({ clientId, refreshToken: first.refreshToken }),
    (error) => error.error === "invalid_grant" && error.status === 400,
  );
});

test("getLogoutUrl ends the session and returns to the application", async () => {
  const workos = workosFromEnvironment();
  const { code, codeVerifier } = await signIn(workos, "ada@acme.test");
  const auth = await workos.userManagement.authenticateWithCode({ clientId, code, codeVerifier });
  const { payload } = await jwtVerify(
    auth.accessToken,
    createRemoteJWKSet(new URL(workos.userManagement.getJwksUrl(clientId))),
  );
  const returnTo = new URL("/", redirectUri).toString();

  const logout = await fetch(workos.userManagement.getLogoutUrl({ sessionId: payload.sid, returnTo }), {
    redirect: "manual",
  });

  assert.equal(logout.status, 302);
  assert.equal(logout.headers.get("location"), returnTo);
  await assert.rejects(
    workos.userManagement.authenticateWithRefreshToken({ clientId, refreshToken: auth.refreshToken }),
    (error) => error.error === "invalid_grant",
  );
});

test("a wrong API key is refused as unauthorized", async () => {
  const workos = workosFromEnvironment("sk_test_not_the_key");
  const { code, codeVerifier } = await signIn(workosFromEnvironment(), "ada@acme.test");

  await assert.rejects(
    workos.userManagement.authenticateWithCode({ clientId, code, codeVerifier }),
    (error) => error.status === 401,
  );
});

test("a reused code is refused with invalid_grant", async () => {
  const workos = workosFromEnvironment();
  const { code, codeVerifier } = await signIn(workos, "ada@acme.test");
  await workos.userManagement.authenticateWithCode({ clientId, code, codeVerifier });

  await assert.rejects(
    workos.userManagement.authenticateWithCode({ clientId, code, codeVerifier }),
    (error) => error.error === "invalid_grant",
  );
});
