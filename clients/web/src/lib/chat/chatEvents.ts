/**
 * The page's model of a conversation, and how each event of the chat stream changes it.
 *
 * An event is the data of one `data:` line of `POST /api/chat`: a `chat.completion.chunk`
 * (text in `delta.content`; tool calls in `delta.tool_calls`, OpenAI's shape; a tool's result
 * in `delta.tool_result`, `{ tool_call_id, content, is_error }`) or `{ "error": {...} }`.
 * Pure functions, so the page and the unit tests share them.
 */

/** One tool call the agent made for this answer, and its result once it came back. */
export interface ToolCallView {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
  readonly result?: string;
  readonly isError?: boolean;
}

/** A finished or streaming answer of the agent. */
export interface AssistantTurn {
  readonly role: "assistant";
  readonly content: string;
  readonly toolCalls: readonly ToolCallView[];
  readonly finishReason?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

/** What the person asked. */
export interface UserTurn {
  readonly role: "user";
  readonly content: string;
}

export type Turn = UserTurn | AssistantTurn;

/** An answer before its first event. */
export function emptyAnswer(): AssistantTurn {
  return { role: "assistant", content: "", toolCalls: [] };
}

/** The answer after one event of the stream (an unknown event leaves it as it was). */
export function applyChatEvent(turn: AssistantTurn, event: unknown): AssistantTurn {
  if (!isObject(event)) {
    return turn;
  }
  if (isObject(event.error)) {
    return { ...turn, error: errorOf(event.error) };
  }
  if (event.object !== "chat.completion.chunk" || !Array.isArray(event.choices)) {
    return turn;
  }
  let next = turn;
  for (const choice of event.choices as unknown[]) {
    if (!isObject(choice) || (choice.index ?? 0) !== 0) {
      continue;
    }
    const delta = isObject(choice.delta) ? choice.delta : {};
    if (typeof delta.content === "string" && delta.content !== "") {
      next = { ...next, content: next.content + delta.content };
    }
    if (Array.isArray(delta.tool_calls)) {
      next = { ...next, toolCalls: mergeToolCalls(next.toolCalls, delta.tool_calls as unknown[]) };
    }
    if (isObject(delta.tool_result)) {
      next = { ...next, toolCalls: withResult(next.toolCalls, delta.tool_result) };
    }
    if (typeof choice.finish_reason === "string") {
      next = { ...next, finishReason: choice.finish_reason };
    }
  }
  return next;
}

/** The error body of a refused request (`{ "error": { code, message } }`), for the page to show. */
export function errorOfBody(body: unknown, status: number): { code: string; message: string } {
  if (isObject(body) && isObject(body.error)) {
    return errorOf(body.error);
  }
  return { code: `HTTP_${status}`, message: `the chat answered HTTP ${status}` };
}

/** The conversation as the route takes it: text of the person's and the agent's turns. */
export function conversationOf(turns: readonly Turn[]): { role: "user" | "assistant"; content: string }[] {
  return turns
    .filter((turn) => turn.role === "user" || (turn.content !== "" && turn.error === undefined))
    .map((turn) => ({ role: turn.role, content: turn.content }));
}

/** A tool's result for people: JSON indented, anything else as it came. */
export function formatToolResult(content: string): string {
  try {
    return JSON.stringify(JSON.parse(content), null, 2);
  } catch {
    return content;
  }
}

function mergeToolCalls(calls: readonly ToolCallView[], fragments: readonly unknown[]): ToolCallView[] {
  const merged = [...calls];
  for (const fragment of fragments) {
    if (!isObject(fragment)) {
      continue;
    }
    const fn = isObject(fragment.function) ? fragment.function : {};
    const id = typeof fragment.id === "string" ? fragment.id : undefined;
    const name = typeof fn.name === "string" ? fn.name : "";
    const args = typeof fn.arguments === "string" ? fn.arguments : "";
    const at = id === undefined ? merged.length - 1 : merged.findIndex((call) => call.id === id);
    const existing = at >= 0 ? merged[at] : undefined;
    if (existing === undefined) {
      merged.push({ id: id ?? `call_${merged.length + 1}`, name, arguments: args });
    } else {
      merged[at] = { ...existing, name: existing.name || name, arguments: existing.arguments + args };
    }
  }
  return merged;
}

function withResult(calls: readonly ToolCallView[], result: Record<string, unknown>): ToolCallView[] {
  const id = typeof result.tool_call_id === "string" ? result.tool_call_id : "";
  const content = typeof result.content === "string" ? result.content : JSON.stringify(result.content ?? null);
  const isError = result.is_error === true;
  const at = calls.findIndex((call) => call.id === id);
  if (at < 0) {
    return [...calls, { id, name: "", arguments: "", result: content, isError }];
  }
  return calls.map((call, index) => (index === at ? { ...call, result: content, isError } : call));
}

function errorOf(error: Record<string, unknown>): { code: string; message: string } {
  return {
    code: typeof error.code === "string" && error.code !== "" ? error.code : "ERROR",
    message: typeof error.message === "string" ? error.message : "the chat failed",
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
