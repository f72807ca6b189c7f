// The seed's `src/app/api/chat/route.ts`, changed so the agent (and through it the Atoms MCP)
// receives the signed-in user's AuthKit token. In the Next.js app the whole file is:
//
//   import { withAuth } from "@workos-inc/authkit-nextjs";
//   import { createChatRoute } from "./chat-route";        // this file, or inline its body
//   export const POST = createChatRoute({ agentUrl: process.env.ATOMS_AGENT_HTTP_URL!, session: withAuth });
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

/** What the route needs: the agent's HTTP face and where the user's session comes from. */
export interface ChatRouteOptions {
  readonly agentUrl: string;
  readonly session: SessionSource;
}

/** `POST /api/chat`: `{ messages }` in, the agent's answer out as an OpenAI-style event stream. */
export function createChatRoute({ agentUrl, session }: ChatRouteOptions): (request: Request) => Promise<Response> {
  const agent = new AgentClient({ baseUrl: agentUrl, session });
  return async function POST(request: Request): Promise<Response> {
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
      const body = { error: { message: error.agentMessage, type: error.type, code: error.code } };
      return new Response(JSON.stringify(body), {
        status: error.status,
        headers: { "content-type": "application/json" },
      });
    }
  };
}
