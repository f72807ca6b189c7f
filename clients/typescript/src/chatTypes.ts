/**
 * The request and response shapes of the agent's OpenAI-compatible `POST /v1/chat/completions`
 * (the subset the agent implements; see services/agent/atoms_agent/http_api.py).
 */

/** Who wrote a message. The agent refuses any other role. */
export type ChatRole = "system" | "user" | "assistant";

/** One message of the conversation. */
export interface ChatMessage {
  readonly role: ChatRole;
  /** The text; at most 32 KiB. */
  readonly content: string;
}

/** The body of a chat request (the agent sets `stream` itself from the method called). */
export interface ChatCompletionRequest {
  /** The conversation so far, oldest first; 1 to 100 messages. */
  readonly messages: readonly ChatMessage[];
  /** The model; the agent's configured default when omitted. */
  readonly model?: string;
}

/** Why the model stopped: `stop`, `length`, `tool_calls_exhausted`, ... */
export type FinishReason = string;

/** One choice of a complete answer. */
export interface ChatCompletionChoice {
  readonly index: number;
  readonly message: { readonly role: "assistant"; readonly content: string };
  readonly finish_reason: FinishReason;
}

/** A complete answer (`object: "chat.completion"`). */
export interface ChatCompletion {
  readonly id: string;
  readonly object: "chat.completion";
  /** Unix time in seconds. */
  readonly created: number;
  readonly model: string;
  readonly choices: readonly ChatCompletionChoice[];
}

/** One choice of a streamed piece. */
export interface ChatCompletionChunkChoice {
  readonly index: number;
  readonly delta: { readonly role?: "assistant"; readonly content?: string };
  /** Set on the last piece only. */
  readonly finish_reason: FinishReason | null;
}

/** One streamed piece of an answer (`object: "chat.completion.chunk"`). */
export interface ChatCompletionChunk {
  readonly id: string;
  readonly object: "chat.completion.chunk";
  readonly created: number;
  readonly model: string;
  readonly choices: readonly ChatCompletionChunkChoice[];
}

/** What `GET /health` answers. */
export interface AgentHealth {
  readonly status: string;
}

/** The answer's text: the first choice's message content. */
export function completionText(completion: ChatCompletion): string {
  return completion.choices[0]?.message.content ?? "";
}

/** The text a streamed piece adds (empty for the role and finish pieces). */
export function chunkText(chunk: ChatCompletionChunk): string {
  return chunk.choices[0]?.delta.content ?? "";
}

/** Whether `value` is an agent answer object of this kind with a `choices` list. */
export function isChatObject(value: unknown, kind: "chat.completion" | "chat.completion.chunk"): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { object?: unknown }).object === kind &&
    Array.isArray((value as { choices?: unknown }).choices)
  );
}
