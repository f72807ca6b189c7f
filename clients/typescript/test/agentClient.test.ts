import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  AgentClient,
  AgentError,
  AgentProtocolError,
  AgentUnreachableError,
  chunkText,
  completionText,
  encodeServerSentEvents,
  readServerSentEvents,
  type ChatCompletionChunk,
} from "../src/index.js";

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2lnbmF0dXJl";
const MESSAGES = [{ role: "user", content: "hi" }] as const;

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: unknown;
}

/** A fetch that records what it was asked and answers with `respond`. */
function fakeFetch(respond: (seen: Seen) => Response | Promise<Response>): typeof fetch & { seen: Seen[] } {
  const seen: Seen[] = [];
  const fetcher = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request: Seen = {
      url: String(input),
      method: init?.method ?? "GET",
      headers: new Headers(init?.headers),
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
    };
    seen.push(request);
    return respond(request);
  };
  return Object.assign(fetcher as typeof fetch, { seen });
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** An event-stream response delivered in the given pieces (split anywhere, even inside CRLF). */
function eventStream(pieces: readonly string[]): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) {
        controller.enqueue(encoder.encode(piece));
      }
      controller.close();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

function chunk(content: string | undefined, finishReason: string | null = null): ChatCompletionChunk {
  return {
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    created: 1,
    model: "m",
    choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: finishReason }],
  };
}

const COMPLETION = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "m",
  choices: [{ index: 0, message: { role: "assistant", content: "hello" }, finish_reason: "stop" }],
};

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<string> {
  let text = "";
  for await (const piece of stream) {
    text += chunkText(piece);
  }
  return text;
}

describe("AgentClient requests", () => {
  test("sends the session's token to the agent with a chat request", async () => {
    const fetch = fakeFetch(() => json(COMPLETION));
    const client = new AgentClient({ baseUrl: "http://agent.test", session: () => ({ accessToken: TOKEN }), fetch });
    const completion = await client.createChatCompletion({ messages: MESSAGES, model: "m" });
    assert.equal(completionText(completion), "hello");
    const [seen] = fetch.seen;
    assert.equal(seen?.url, "http://agent.test/v1/chat/completions");
    assert.equal(seen?.method, "POST");
    assert.equal(seen?.headers.get("authorization"), `Bearer ${TOKEN}`);
    assert.deepEqual(seen?.body, { messages: MESSAGES, model: "m", stream: false });
  });

  test("sends on the trace context and request id it is given, and nothing else", async () => {
    const fetch = fakeFetch(() => json(COMPLETION));
    const client = new AgentClient({ baseUrl: "http://agent.test", session: () => ({ accessToken: TOKEN }), fetch });
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    await client.createChatCompletion(
      { messages: MESSAGES },
      {
        propagate: {
          traceparent,
          "X-Request-Id": "req-web-1",
          authorization: "Bearer someone-else",
          cookie: "session=1",
          tracestate: "bad\r\nx-injected: 1",
        },
      },
    );
    const [seen] = fetch.seen;
    assert.equal(seen?.headers.get("traceparent"), traceparent);
    assert.equal(seen?.headers.get("x-request-id"), "req-web-1");
    assert.equal(seen?.headers.get("authorization"), `Bearer ${TOKEN}`);
    assert.equal(seen?.headers.get("cookie"), null);
    assert.equal(seen?.headers.get("tracestate"), null);
  });

  test("sends no Authorization header when the session has no token", async () => {
    const fetch = fakeFetch(() => json(COMPLETION));
    const client = new AgentClient({ baseUrl: "http://agent.test", session: () => undefined, fetch });
    await client.createChatCompletion({ messages: MESSAGES });
    assert.equal(fetch.seen[0]?.headers.has("authorization"), false);
  });

  test("keeps a path prefix of the base URL", async () => {
    const fetch = fakeFetch(() => json({ status: "ok" }));
    const client = new AgentClient({ baseUrl: "https://example.test/agent", fetch });
    await client.checkHealth();
    assert.equal(fetch.seen[0]?.url, "https://example.test/agent/health");
  });

  test("checks health without sending the token", async () => {
    const fetch = fakeFetch(() => json({ status: "ok" }));
    const client = new AgentClient({ baseUrl: "http://agent.test", session: () => ({ accessToken: TOKEN }), fetch });
    assert.deepEqual(await client.checkHealth(), { status: "ok" });
    assert.equal(fetch.seen[0]?.headers.has("authorization"), false);
  });

  test("refuses a base URL that is not http(s)", () => {
    assert.throws(() => new AgentClient({ baseUrl: "file:///etc/passwd" }), TypeError);
  });
});

describe("AgentClient errors", () => {
  test("carry the HTTP status, the agent's reason code and the challenge", async () => {
    const body = { error: { message: "signature invalid", type: "unauthenticated", code: "INVALID_SIGNATURE" } };
    const challenge = 'Bearer error="invalid_token", error_description="INVALID_SIGNATURE"';
    const fetch = fakeFetch(() => json(body, 401, { "www-authenticate": challenge }));
    const client = new AgentClient({ baseUrl: "http://agent.test", fetch });
    await assert.rejects(client.createChatCompletion({ messages: MESSAGES }), (error: unknown) => {
      assert.ok(error instanceof AgentError);
      assert.equal(error.status, 401);
      assert.equal(error.code, "INVALID_SIGNATURE");
      assert.equal(error.type, "unauthenticated");
      assert.equal(error.challenge, challenge);
      return true;
    });
  });

  test("carry Retry-After of a 503", async () => {
    const body = { error: { message: "down", type: "unavailable", code: "MODEL_UNAVAILABLE" } };
    const fetch = fakeFetch(() => json(body, 503, { "retry-after": "5" }));
    const client = new AgentClient({ baseUrl: "http://agent.test", fetch });
    await assert.rejects(client.streamChatCompletion({ messages: MESSAGES }), { status: 503, retryAfterS: 5 });
  });

  test("name the HTTP status when a proxy answers with something else", async () => {
    const fetch = fakeFetch(() => new Response("<html>bad gateway</html>", { status: 502 }));
    const client = new AgentClient({ baseUrl: "http://agent.test", fetch });
    await assert.rejects(client.createChatCompletion({ messages: MESSAGES }), { status: 502, code: "HTTP_502" });
  });

  test("say the agent is unreachable when the connection fails", async () => {
    const fetch = fakeFetch(() => Promise.reject(new TypeError("fetch failed")));
    const client = new AgentClient({ baseUrl: "http://agent.test", fetch });
    await assert.rejects(client.checkHealth(), AgentUnreachableError);
  });

  test("say the agent is unreachable when it does not answer in time", async () => {
    const fetch: typeof globalThis.fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
    const client = new AgentClient({ baseUrl: "http://agent.test", fetch, timeoutMs: 5 });
    await assert.rejects(client.checkHealth(), /no answer from the agent within 5 ms/);
  });

  test("give the caller's own abort reason back", async () => {
    const fetch: typeof globalThis.fetch = (_input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal?.reason)));
    const client = new AgentClient({ baseUrl: "http://agent.test", fetch });
    const reason = new Error("user left");
    const controller = new AbortController();
    const pending = client.checkHealth({ signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(pending, (error: unknown) => error === reason);
  });

  test("are protocol errors when a success answer is not a completion", async () => {
    const fetch = fakeFetch(() => json({ hello: "world" }));
    const client = new AgentClient({ baseUrl: "http://agent.test", fetch });
    await assert.rejects(client.createChatCompletion({ messages: MESSAGES }), AgentProtocolError);
  });
});

describe("AgentClient streams", () => {
  const events = [chunk(undefined), chunk("Hel"), chunk("lo"), chunk(undefined, "stop")]
    .map((item) => `data: ${JSON.stringify(item)}\r\n\r\n`)
    .join("");

  test("yield the agent's chunks in order, however the bytes are split", async () => {
    for (const size of [1, 2, 7, 64, events.length]) {
      const pieces = events.match(new RegExp(`[\\s\\S]{1,${size}}`, "g")) ?? [];
      const fetch = fakeFetch(() => eventStream([...pieces, "data: [DONE]\n\n"]));
      const client = new AgentClient({ baseUrl: "http://agent.test", fetch });
      const stream = await client.streamChatCompletion({ messages: MESSAGES });
      assert.equal(await collect(stream), "Hello", `pieces of ${size} characters`);
      assert.equal(fetch.seen[0]?.headers.get("accept"), "text/event-stream");
      assert.deepEqual((fetch.seen[0]?.body as { stream: boolean }).stream, true);
    }
  });

  test("raise an error the agent sends inside the stream, with the status it maps to", async () => {
    const failure = { error: { message: "model down", type: "unavailable", code: "MODEL_UNAVAILABLE" } };
    const fetch = fakeFetch(() =>
      eventStream([`data: ${JSON.stringify(chunk("partial"))}\n\n`, `data: ${JSON.stringify(failure)}\n\n`]),
    );
    const stream = await new AgentClient({ baseUrl: "http://agent.test", fetch }).streamChatCompletion({
      messages: MESSAGES,
    });
    await assert.rejects(collect(stream), { status: 503, code: "MODEL_UNAVAILABLE", inStream: true });
  });

  test("that end without [DONE] are protocol errors", async () => {
    const fetch = fakeFetch(() => eventStream([`data: ${JSON.stringify(chunk("cut"))}\n\n`]));
    const stream = await new AgentClient({ baseUrl: "http://agent.test", fetch }).streamChatCompletion({
      messages: MESSAGES,
    });
    await assert.rejects(collect(stream), AgentProtocolError);
  });

  test("that are not event streams are refused before any chunk", async () => {
    const fetch = fakeFetch(() => json(COMPLETION));
    const client = new AgentClient({ baseUrl: "http://agent.test", fetch });
    await assert.rejects(client.streamChatCompletion({ messages: MESSAGES }), AgentProtocolError);
  });
});

describe("server-sent events", () => {
  test("written by encodeServerSentEvents read back the same, ending with [DONE]", async () => {
    async function* items(): AsyncGenerator<ChatCompletionChunk> {
      yield chunk("a");
      yield chunk("b\nc");
    }
    const data: string[] = [];
    for await (const item of readServerSentEvents(encodeServerSentEvents(items()))) {
      data.push(item);
    }
    assert.deepEqual(data, [JSON.stringify(chunk("a")), JSON.stringify(chunk("b\nc")), "[DONE]"]);
  });

  test("carry an AgentError raised mid-stream in-band, as the agent does", async () => {
    async function* items(): AsyncGenerator<ChatCompletionChunk> {
      yield chunk("a");
      throw new AgentError({ status: 503, body: { message: "down", type: "unavailable", code: "MODEL_UNAVAILABLE" } });
    }
    const data: string[] = [];
    for await (const item of readServerSentEvents(encodeServerSentEvents(items()))) {
      data.push(item);
    }
    assert.deepEqual(JSON.parse(data[1] ?? "{}"), {
      error: { message: "down", type: "unavailable", code: "MODEL_UNAVAILABLE" },
    });
    assert.equal(data[2], "[DONE]");
  });

  test("join multi-line data and skip comments and other fields", async () => {
    const data: string[] = [];
    const body = eventStream([": keep-alive\n", "event: x\ndata: one\ndata:two\n\n", "id: 7\ndata\n\n"]).body;
    assert.ok(body !== null);
    for await (const item of readServerSentEvents(body)) {
      data.push(item);
    }
    assert.deepEqual(data, ["one\ntwo"]);
  });
});

describe("ChatCompletionStream", () => {
  function streamClient(): { client: AgentClient; cancelled: () => boolean } {
    let cancelled = false;
    const fetch = fakeFetch(() => {
      const body = new ReadableStream<Uint8Array>({
        cancel() {
          cancelled = true;
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    });
    return { client: new AgentClient({ baseUrl: "http://agent.test", fetch }), cancelled: () => cancelled };
  }

  test("cancelled before reading closes the connection", async () => {
    const { client, cancelled } = streamClient();
    const stream = await client.streamChatCompletion({ messages: MESSAGES });
    await stream.cancel();
    assert.equal(cancelled(), true);
  });

  test("closes the connection when its iterator is returned before the first chunk", async () => {
    const { client, cancelled } = streamClient();
    const stream = await client.streamChatCompletion({ messages: MESSAGES });
    await stream[Symbol.asyncIterator]().return?.();
    assert.equal(cancelled(), true);
  });

  test("can be iterated only once", async () => {
    const { client } = streamClient();
    const stream = await client.streamChatCompletion({ messages: MESSAGES });
    stream[Symbol.asyncIterator]();
    assert.throws(() => stream[Symbol.asyncIterator](), TypeError);
    await stream.cancel();
  });
});
