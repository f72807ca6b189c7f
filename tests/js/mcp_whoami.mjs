// Calls the Atoms MCP service's `whoami` tool with the official TypeScript MCP SDK and prints the result as JSON.
//
//   ATOMS_MCP_TOKEN=<bearer token> node tests/js/mcp_whoami.mjs http://127.0.0.1:8000/api/mcp
//   node tests/js/mcp_whoami.mjs <url> <token>        (the environment is preferred: argv is visible in `ps`)
//
// Optional: ATOMS_MCP_ORG_ID sends X-Atoms-Org-Id (internal service tokens act for that organization).
// Exit codes: 0 success, 1 the call failed, 2 usage.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url = process.env.ATOMS_MCP_URL, argvToken] = process.argv.slice(2);
const token = process.env.ATOMS_MCP_TOKEN ?? argvToken;
if (!url || !token) {
  console.error("usage: ATOMS_MCP_TOKEN=<token> node mcp_whoami.mjs <mcp-url>");
  process.exit(2);
}

const headers = { Authorization: `Bearer ${token}` };
if (process.env.ATOMS_MCP_ORG_ID) {
  headers["X-Atoms-Org-Id"] = process.env.ATOMS_MCP_ORG_ID;
}

const client = new Client({ name: "atoms-whoami", version: "0.1.0" });
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
try {
  await client.connect(transport);
  const result = await client.callTool({ name: "whoami", arguments: {} });
  if (result.isError) {
    console.error(`whoami failed: ${JSON.stringify(result.content)}`);
    process.exitCode = 1;
  } else {
    console.log(JSON.stringify(result.structuredContent));
  }
} catch (error) {
  // Never print the token: only the error's message.
  console.error(`whoami failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await client.close();
}
