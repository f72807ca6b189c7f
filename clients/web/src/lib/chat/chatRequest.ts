/**
 * What the page may send to `POST /api/chat`: `{ "messages": [{ "role", "content" }] }`, read
 * with a size bound and checked before anything reaches the agent, so a hostile body is a 400
 * with a reason.
 */
import type { ChatMessage } from "@atoms/agent-client";

/** Largest request body the route reads (the agent's own bound). */
export const MAX_BODY_BYTES = 256 * 1024;
/** Most messages in one conversation (the agent's own bound). */
export const MAX_MESSAGES = 100;
/** Longest message, in characters (the agent's bound is 32 KiB). */
export const MAX_MESSAGE_CHARS = 32 * 1024;

/** The page's request is refused: `code` and `message` say why. */
export class ChatRequestError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(message: string, { status = 400, code = "INVALID_REQUEST" }: { status?: number; code?: string } = {}) {
    super(message);
    this.name = "ChatRequestError";
    this.status = status;
    this.code = code;
  }
}

const PAGE_ROLES = new Set(["user", "assistant"]);

/**
 * The conversation of a chat request.
 *
 * @throws ChatRequestError the body is too large, not JSON, or not a list of user/assistant messages.
 */
export async function readChatRequest(request: Request): Promise<ChatMessage[]> {
  const text = await readBoundedText(request, MAX_BODY_BYTES);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ChatRequestError("the body must be a JSON object");
  }
  return parseMessages(body);
}

/** The messages of an already parsed body. @throws ChatRequestError */
export function parseMessages(body: unknown): ChatMessage[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ChatRequestError("the body must be a JSON object");
  }
  const messages: unknown = (body as { messages?: unknown }).messages;
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > MAX_MESSAGES) {
    throw new ChatRequestError(`messages must be a list of 1 to ${MAX_MESSAGES} messages`);
  }
  return messages.map((item: unknown, index) => {
    const role: unknown = (item as { role?: unknown } | null)?.role;
    const content: unknown = (item as { content?: unknown } | null)?.content;
    if (typeof role !== "string" || !PAGE_ROLES.has(role)) {
      throw new ChatRequestError(`messages[${index}].role must be "user" or "assistant"`);
    }
    if (typeof content !== "string" || content.length > MAX_MESSAGE_CHARS) {
      throw new ChatRequestError(`messages[${index}].content must be text of at most ${MAX_MESSAGE_CHARS} characters`);
    }
    return { role: role as "user" | "assistant", content };
  });
}

async function readBoundedText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new ChatRequestError(`the body must be at most ${maxBytes} bytes`, { status: 413, code: "BODY_TOO_LARGE" });
  }
  if (request.body === null) {
    return "";
  }
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        break;
      }
      size += value.byteLength;
      if (size > maxBytes) {
        throw new ChatRequestError(`the body must be at most ${maxBytes} bytes`, {
          status: 413,
          code: "BODY_TOO_LARGE",
        });
      }
      parts.push(value);
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(joined);
  } catch {
    throw new ChatRequestError("the body must be UTF-8 text");
  }
}
