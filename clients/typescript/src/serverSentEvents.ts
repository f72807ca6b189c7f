/**
 * Server-sent events (the `text/event-stream` format of the HTTP standard) in both directions:
 * reading the agent's stream, and writing one for a route handler to return.
 */
import { AgentError, AgentProtocolError } from "./agentErrors.js";

/** Longest event this reader accepts: a runaway stream must not grow memory without bound. */
export const MAX_EVENT_CHARS = 1024 * 1024;

/** The next complete line of `buffer` and the rest, or undefined until more text arrives. */
function takeLine(buffer: string): [line: string, rest: string] | undefined {
  const end = buffer.search(/[\r\n]/);
  if (end < 0) {
    return undefined;
  }
  if (buffer[end] === "\r") {
    if (end === buffer.length - 1) {
      return undefined; // a CR at the end may be the first half of CRLF: wait for the next piece
    }
    return [buffer.slice(0, end), buffer.slice(buffer[end + 1] === "\n" ? end + 2 : end + 1)];
  }
  return [buffer.slice(0, end), buffer.slice(end + 1)];
}

/** The `data` value of a `data:` field line, or undefined for any other line. */
function dataOf(line: string): string | undefined {
  if (line === "data") {
    return "";
  }
  if (!line.startsWith("data:")) {
    return undefined; // comments (":…") and the fields this client does not use (event, id, retry)
  }
  const value = line.slice("data:".length);
  return value.startsWith(" ") ? value.slice(1) : value;
}

/**
 * Yields the data of each event of a `text/event-stream` body (multi-line data joined by `\n`).
 *
 * Stopping the iteration early cancels the body.
 *
 * @throws AgentProtocolError an event is longer than MAX_EVENT_CHARS.
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        return; // an event without its closing blank line is incomplete: dropped, as the standard says
      }
      buffer += value;
      for (let next = takeLine(buffer); next !== undefined; next = takeLine(buffer)) {
        const [line, rest] = next;
        buffer = rest;
        if (line === "") {
          const event = data.join("\n");
          if (data.length > 1 || event !== "") {
            yield event; // a lone empty `data` line is no event, as the standard says
          }
          data = [];
          continue;
        }
        const field = dataOf(line);
        if (field !== undefined) {
          data.push(field);
        }
      }
      if (buffer.length + data.reduce((total, item) => total + item.length, 0) > MAX_EVENT_CHARS) {
        throw new AgentProtocolError(`an event of the agent's stream is longer than ${MAX_EVENT_CHARS} characters`);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/**
 * A `text/event-stream` body of `data: <json>` events ending with `data: [DONE]`, the format
 * OpenAI-compatible clients read. An AgentError raised by `items` after the first event is
 * sent in-band as `data: {"error": {...}}`, as the agent itself does once headers are out.
 * Cancelling the body (the browser went away) stops `items`.
 */
export function encodeServerSentEvents(items: AsyncIterable<unknown>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = items[Symbol.asyncIterator]();
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, data: string): void => {
    controller.enqueue(encoder.encode(`data: ${data}\n\n`));
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done !== true) {
          send(controller, JSON.stringify(next.value));
          return;
        }
      } catch (error) {
        if (!(error instanceof AgentError)) {
          throw error;
        }
        send(controller, JSON.stringify({ error: { message: error.agentMessage, type: error.type, code: error.code } }));
      }
      send(controller, "[DONE]");
      controller.close();
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}
