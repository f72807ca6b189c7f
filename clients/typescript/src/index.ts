/**
 * @atoms/agent-client: what a front end needs to talk to the Atoms agent as the signed-in user.
 *
 * - `FIRST_PARTY_MCPS`: the first-party MCP registry, generated from the agent's own list.
 * - `getMCPAuthHeaders(mcpId, session)`: the user's `Authorization` header, for first-party MCPs only.
 * - `AgentClient`: `POST /v1/chat/completions` (streaming and not) and `GET /health`.
 */
export {
  AgentClient,
  DEFAULT_TIMEOUT_MS,
  PROPAGATED_HEADERS,
  type AgentClientOptions,
  type RequestOptions,
} from "./agentClient.js";
export { ChatCompletionStream } from "./chatCompletionStream.js";
export {
  AgentClientError,
  AgentError,
  AgentProtocolError,
  AgentUnreachableError,
  type AgentErrorBody,
} from "./agentErrors.js";
export {
  chunkText,
  completionText,
  type AgentHealth,
  type ChatCompletion,
  type ChatCompletionChoice,
  type ChatCompletionChunk,
  type ChatCompletionChunkChoice,
  type ChatCompletionRequest,
  type ChatMessage,
  type ChatRole,
  type FinishReason,
} from "./chatTypes.js";
export {
  FIRST_PARTY_MCPS,
  findFirstPartyMcp,
  isFirstPartyMcp,
  type FirstPartyMcp,
  type FirstPartyMcpId,
} from "./firstPartyMcps.js";
export {
  InvalidAccessTokenError,
  getBearerHeaders,
  getMCPAuthHeaders,
  type AuthHeaders,
  type Session,
  type SessionSource,
} from "./mcpAuthHeaders.js";
export { encodeServerSentEvents, readServerSentEvents } from "./serverSentEvents.js";
