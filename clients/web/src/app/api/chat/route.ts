/**
 * `POST /api/chat`: the page's conversation in, the agent's streamed answer out.
 *
 * The signed-in user's AuthKit access token goes to the agent's `POST /v1/chat/completions` as
 * `Authorization: Bearer …` (the agent forwards it to the Atoms MCP); it never goes to the page.
 * Nobody signed in: 401 JSON. Every refusal is JSON `{ "error": { "code", "message" } }`; once
 * the answer streams, a failure arrives in-band as `data: {"error": …}`, then `data: [DONE]`.
 * With tracing on (`src/instrumentation.ts`), the request to the agent carries the route's
 * `traceparent`: the agent's span of the chat is a child of this route's span.
 */
import {
  AgentClient,
  AgentClientError,
  AgentError,
  AgentProtocolError,
  encodeServerSentEvents,
  type ChatCompletionChunk,
  type ChatCompletionStream,
} from "@atoms/agent-client";

import { ChatRequestError, readChatRequest } from "../../../lib/chat/chatRequest";
import { currentSession } from "../../../lib/mcp/auth";
import { traceHeaders } from "../../../lib/tracing/propagation";
import { AGENT_URL_VARIABLE, requiredUrlSetting, SettingError } from "../../../lib/settings";

export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  const session = await currentSession();
  if (session === undefined) {
    return errorResponse(401, "unauthenticated", "NOT_SIGNED_IN", "sign in to chat");
  }
  try {
    const agent = new AgentClient({ baseUrl: requiredUrlSetting(AGENT_URL_VARIABLE), session: () => session });
    const messages = await readChatRequest(request);
    const answer = await agent.streamChatCompletion({ messages }, { signal: request.signal, propagate: traceHeaders() });
    return new Response(encodeServerSentEvents(withErrorsInBand(answer)), {
      headers: { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" },
    });
  } catch (error) {
    return refusal(error);
  }
}

/** The one place a failure before the stream becomes a response. */
function refusal(error: unknown): Response {
  if (error instanceof ChatRequestError) {
    return errorResponse(error.status, "invalid_argument", error.code, error.message);
  }
  if (error instanceof SettingError) {
    console.error(`chat route: ${error.message}`);
    return errorResponse(500, "failed_precondition", "NOT_CONFIGURED", `the web app is not configured: ${error.message}`);
  }
  if (error instanceof AgentError) {
    // The agent's status and reason (401 INVALID_SIGNATURE, 400 MODEL_NOT_CONFIGURED, 503 …) pass through.
    return errorResponse(error.status, error.type, error.code, error.agentMessage);
  }
  if (error instanceof AgentProtocolError) {
    return errorResponse(502, "unavailable", "AGENT_PROTOCOL_ERROR", error.message);
  }
  if (error instanceof AgentClientError) {
    return errorResponse(503, "unavailable", "AGENT_UNREACHABLE", error.message);
  }
  if (error instanceof Error && error.name === "AbortError") {
    return errorResponse(499, "cancelled", "CANCELLED", "the page went away");
  }
  console.error("chat route: unexpected failure", error instanceof Error ? error.name : typeof error);
  return errorResponse(500, "internal", "INTERNAL", "the chat failed; see the web app's log");
}

/** The agent's chunks, with a broken stream reported in-band as the agent itself does. */
async function* withErrorsInBand(answer: ChatCompletionStream): AsyncGenerator<ChatCompletionChunk> {
  try {
    yield* answer;
  } catch (error) {
    if (error instanceof AgentError || !(error instanceof AgentClientError)) {
      throw error;
    }
    const code = error instanceof AgentProtocolError ? "AGENT_PROTOCOL_ERROR" : "AGENT_UNREACHABLE";
    throw new AgentError({ status: 503, body: { message: error.message, type: "unavailable", code } });
  }
}

function errorResponse(status: number, type: string, code: string, message: string): Response {
  return Response.json({ error: { message, type, code } }, { status, headers: { "cache-control": "no-store" } });
}
