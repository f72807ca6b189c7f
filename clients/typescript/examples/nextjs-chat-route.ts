// A chat route for a Next.js app: the agent (and through it the Atoms MCP) receives the
// signed-in user's AuthKit token. The real app, clients/web, has its own route
// (clients/web/src/app/api/chat/route.ts); this example is the minimal form:
//
//   import { withAuth } from "@workos-inc/authkit-nextjs";
//   import { createChatRoute } from "./chat-route";        // this file, or inline its body
//   export const POST = createChatRoute({ agentUrl: () => process.env.ATOMS_AGENT_HTTP_URL, session: withAuth });
//
// The agent's URL is read when a request comes, never when the module loads: `next build`
// loads route modules with no settings, and a client built from an unset variable there failed
// with `TypeError: Invalid URL`. An unset or malformed URL is a 500 naming the variable.
//
// Nothing here depends on Next.js: a route handler is a function from the web `Request` to a
// `Response`, which is what `createChatRoute` returns. In the app, import from
// "@atoms/agent-client" instead of "../src/index.js".
import {
  AgentClient,
  AgentError,
  encodeServerSentEvents,
  type ChatMessage,
  type SessionSource,
} from "../src/index.js";

/** What the route needs: the agent's HTTP face (or where to read it per request) and the user's session. */
export interface ChatRouteOptions {
  readonly agentUrl: string | (() => string | undefined);
  readonly session: SessionSource;
}

/** `POST /api/chat`: `{ messages }` in, the agent's answer out as an OpenAI-style event stream. */
export function createChatRoute({ agentUrl, session }: ChatRouteOptions): (request: Request) => Promise<Response> {
  let agent: AgentClient | undefined;
  return async function POST(request: Request): Promise<Response> {
    const url = typeof agentUrl === "function" ? agentUrl() : agentUrl;
    try {
      agent ??= new AgentClient({ baseUrl: url ?? "", session });
    } catch {
      return json(500, { message: "ATOMS_AGENT_HTTP_URL is not set to the agent's http(s) URL", type: "failed_precondition", code: "NOT_CONFIGURED" });
    }
    const { messages } = (await request.json()) as { messages: ChatMessage[] };
    try {
      const answer = await agent.streamChatCompletion({ messages }, { signal: request.signal });
      return new Response(encodeServerSentEvents(answer), {
        headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
      });
    } catch (error) {
      if (!(error instanceof AgentError)) {
        throw error;
      }
      // The agent's status and reason (401 MISSING_TOKEN / INVALID_SIGNATURE, 503, ...) reach the page as they are.
      return json(error.status, { message: error.agentMessage, type: error.type, code: error.code });
    }
  };
}

function json(status: number, error: { message: string; type: string; code: string }): Response {
  return new Response(JSON.stringify({ error }), { status, headers: { "content-type": "application/json" } });
}
