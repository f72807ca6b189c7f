// The official TypeScript MCP SDK, starting with no token, completes the OAuth dance against the
// Atoms MCP and the local AuthKit, then calls `whoami`. Prints one JSON line:
//   {"whoami": {...}, "client_id": "...", "token_audience": "...", "hops": ["POST /api/mcp 401", ...]}
//
//   ATOMS_SIGNIN_EMAIL=hedy@globex.test node tests/js/mcp_oauth_whoami.mjs http://127.0.0.1:8000/api/mcp
//
// The person at the login page is played over plain HTTP (login_page.mjs).
// Nothing secret is printed: the audience is decoded from the token, never the token itself.
// Exit codes: 0 success, 1 the flow failed, 2 usage.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { signInAtTheLoginPage } from "./login_page.mjs";

const [url] = process.argv.slice(2);
const email = process.env.ATOMS_SIGNIN_EMAIL;
const redirectUrl = process.env.ATOMS_OAUTH_REDIRECT_URL ?? "http://127.0.0.1:47125/oauth/callback";
if (!url || !email) {
  console.error("usage: ATOMS_SIGNIN_EMAIL=<dev user> node mcp_oauth_whoami.mjs <mcp-url>");
  process.exit(2);
}

const hops = [];
async function recordingFetch(input, init) {
  const response = await fetch(input, init);
  const target = new URL(input instanceof Request ? input.url : String(input));
  hops.push(`${init?.method ?? "GET"} ${target.pathname} ${response.status}`);
  return response;
}

async function signInAndReadTheCode(authorizationUrl, expectedState) {
  const back = await signInAtTheLoginPage(authorizationUrl, email, recordingFetch);
  if (back.origin + back.pathname !== redirectUrl) throw new Error("redirected somewhere else");
  if (back.searchParams.get("state") !== expectedState) throw new Error("the state came back changed");
  return back.searchParams.get("code");
}

class InMemoryOAuthProvider {
  code = undefined;
  #client = undefined;
  #tokens = undefined;
  #verifier = undefined;
  #state = undefined;

  get redirectUrl() {
    return redirectUrl;
  }
  get clientMetadata() {
    return {
      client_name: "atoms tests (TypeScript SDK)",
      redirect_uris: [redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() {
    this.#state = crypto.randomUUID();
    return this.#state;
  }
  clientInformation() {
    return this.#client;
  }
  saveClientInformation(information) {
    this.#client = information;
  }
  tokens() {
    return this.#tokens;
  }
  saveTokens(tokens) {
    this.#tokens = tokens;
  }
  async redirectToAuthorization(authorizationUrl) {
    this.code = await signInAndReadTheCode(authorizationUrl, this.#state);
  }
  saveCodeVerifier(verifier) {
    this.#verifier = verifier;
  }
  codeVerifier() {
    return this.#verifier;
  }
  audience() {
    const payload = this.#tokens.access_token.split(".")[1];
    return JSON.parse(Buffer.from(payload, "base64url").toString()).aud;
  }
}

const provider = new InMemoryOAuthProvider();
const connect = async () => {
  const client = new Client({ name: "atoms-oauth-whoami", version: "0.1.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: recordingFetch });
  await client.connect(transport);
  return { client, transport };
};

try {
  let connection;
  try {
    connection = await connect();
  } catch (error) {
    if (!(error instanceof UnauthorizedError) || provider.code === undefined) throw error;
    const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: recordingFetch });
    await transport.finishAuth(provider.code);
    connection = await connect();
  }
  const result = await connection.client.callTool({ name: "whoami", arguments: {} });
  await connection.client.close();
  if (result.isError) throw new Error(JSON.stringify(result.content));
  console.log(
    JSON.stringify({
      whoami: result.structuredContent,
      client_id: provider.clientInformation().client_id,
      token_audience: provider.audience(),
      hops,
    }),
  );
} catch (error) {
  console.error(`the OAuth flow failed: ${error.message}; hops: ${hops.join(", ")}`);
  process.exitCode = 1;
}
