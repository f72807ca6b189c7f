/**
 * AgentClient: the agent's HTTP face for front ends, `POST /v1/chat/completions` (streaming
 * and not) and `GET /health`, with the signed-in user's token from an injected session.
 */
import { AgentError, AgentProtocolError, AgentUnreachableError, readErrorBody } from "./agentErrors.js";
import { ChatCompletionStream, type StartedRequest } from "./chatCompletionStream.js";
import {
  isChatObject,
  type AgentHealth,
  type ChatCompletion,
  type ChatCompletionRequest,
} from "./chatTypes.js";
import { getBearerHeaders, type SessionSource } from "./mcpAuthHeaders.js";

/** How long a request may take until the agent's answer starts (and, when not streaming, ends). */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** How to reach the agent and on whose behalf. */
export interface AgentClientOptions {
  /** The agent's HTTP face, e.g. `http://127.0.0.1:3284` (a path prefix behind a proxy is kept). */
  readonly baseUrl: string | URL;
  /**
   * Where the signed-in user's AuthKit access token comes from (e.g. authkit-nextjs `withAuth`).
   * Called once per request. Without it, or when it returns no token, requests carry no
   * `Authorization` header and the agent answers 401 `MISSING_TOKEN`.
   */
  readonly session?: SessionSource;
  /** The fetch to use (tests, instrumentation); the global `fetch` by default. */
  readonly fetch?: typeof fetch;
  /** Limit in milliseconds until the answer starts (until it ends, when not streaming). */
  readonly timeoutMs?: number;
}

/** Per-call options. */
export interface RequestOptions {
  /** Aborts the request (and, for a stream, the rest of the stream); the abort reason is thrown as is. */
  readonly signal?: AbortSignal;
  /**
   * Trace context and request id to send on: `traceparent`, `tracestate` (W3C Trace Context) and
   * `x-request-id`, as a traced server's propagator writes them. Any other header is ignored: the
   * client alone sets `authorization`, `content-type` and `accept`.
   */
  readonly propagate?: Readonly<Record<string, string>>;
}

/** The headers `RequestOptions.propagate` may carry. */
export const PROPAGATED_HEADERS: readonly string[] = ["traceparent", "tracestate", "x-request-id"];

/** A client of one agent's HTTP face on behalf of one session source. */
export class AgentClient {
  readonly #baseUrl: URL;
  readonly #session: SessionSource | undefined;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  /** @throws TypeError `baseUrl` is not an http(s) URL or `timeoutMs` is not a positive number. */
  constructor(options: AgentClientOptions) {
    const base = new URL(options.baseUrl);
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new TypeError("baseUrl must be an http(s) URL");
    }
    base.pathname = base.pathname.endsWith("/") ? base.pathname : `${base.pathname}/`;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError("timeoutMs must be a positive number of milliseconds");
    }
    this.#baseUrl = base;
    this.#session = options.session;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * `GET /health`. Sends no token: the agent's health check is public, so the token stays home.
   *
   * @throws AgentError, AgentUnreachableError, AgentProtocolError
   */
  async checkHealth(options: RequestOptions = {}): Promise<AgentHealth> {
    const started = await this.#start("health", { method: "GET", headers: { accept: "application/json" } }, options);
    try {
      const body = await this.#readJson(started);
      if (typeof body !== "object" || body === null || typeof (body as AgentHealth).status !== "string") {
        throw new AgentProtocolError("the agent's /health answer has no status");
      }
      return { status: (body as AgentHealth).status };
    } finally {
      started.settle();
    }
  }

  /**
   * `POST /v1/chat/completions` without streaming: the whole answer at once.
   *
   * @throws AgentError (e.g. 401 INVALID_SIGNATURE or MISSING_TOKEN, 400 MODEL_NOT_CONFIGURED), AgentUnreachableError, AgentProtocolError
   * @throws InvalidAccessTokenError the session's token cannot be a bearer token.
   */
  async createChatCompletion(request: ChatCompletionRequest, options: RequestOptions = {}): Promise<ChatCompletion> {
    const started = await this.#postChat(request, false, options);
    try {
      const body = await this.#readJson(started);
      if (!isChatObject(body, "chat.completion")) {
        throw new AgentProtocolError("the agent's answer is not a chat.completion");
      }
      return body as ChatCompletion;
    } finally {
      started.settle();
    }
  }

  /**
   * `POST /v1/chat/completions` with `stream: true`. Resolves once the agent has accepted the
   * request, so a refusal (401, 400, 503, ...) is thrown here, before any chunk.
   *
   * @throws AgentError, AgentUnreachableError, AgentProtocolError; iterating may throw the same
   *   (an AgentError with `inStream` when the agent reports a failure inside the stream).
   * @throws InvalidAccessTokenError the session's token cannot be a bearer token.
   */
  async streamChatCompletion(request: ChatCompletionRequest, options: RequestOptions = {}): Promise<ChatCompletionStream> {
    const started = await this.#postChat(request, true, options);
    const contentType = started.response.headers.get("content-type") ?? "";
    if (!contentType.startsWith("text/event-stream") || started.response.body === null) {
      started.settle();
      await started.response.body?.cancel();
      throw new AgentProtocolError(`the agent answered a stream request with ${contentType || "no content type"}`);
    }
    return new ChatCompletionStream(started.response.body, started);
  }

  async #postChat(request: ChatCompletionRequest, stream: boolean, options: RequestOptions): Promise<StartedRequest> {
    const headers = {
      "content-type": "application/json",
      accept: stream ? "text/event-stream" : "application/json",
      ...(await getBearerHeaders(this.#session)),
    };
    const body = JSON.stringify({ ...request, stream });
    return this.#start("v1/chat/completions", { method: "POST", headers, body }, options, stream);
  }

  /** Sends the request and checks the status; the timer runs until `settle()` (or the headers, for a stream). */
  async #start(path: string, init: RequestInit, options: RequestOptions, stream = false): Promise<StartedRequest> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new AgentTimeout()), this.#timeoutMs);
    const forwardAbort = (): void => controller.abort(options.signal?.reason);
    if (options.signal?.aborted === true) {
      forwardAbort();
    }
    options.signal?.addEventListener("abort", forwardAbort, { once: true });
    const settle = (): void => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", forwardAbort);
    };
    let response: Response;
    try {
      const headers = { ...propagatedHeaders(options.propagate), ...(init.headers as Record<string, string>) };
      response = await this.#fetch(new URL(path, this.#baseUrl), { ...init, headers, signal: controller.signal });
    } catch (error) {
      settle();
      throw this.#transportError(error, controller.signal);
    }
    if (stream) {
      clearTimeout(timer); // a stream may run longer than the timeout; the caller's signal still applies
    }
    const started = { response, signal: controller.signal, settle };
    if (!response.ok) {
      try {
        throw await errorFromResponse(response);
      } finally {
        settle();
      }
    }
    return started;
  }

  async #readJson(started: StartedRequest): Promise<unknown> {
    let text: string;
    try {
      text = await started.response.text();
    } catch (error) {
      throw this.#transportError(error, started.signal);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new AgentProtocolError("the agent's answer is not JSON", { cause: error });
    }
  }

  #transportError(error: unknown, signal: AbortSignal): unknown {
    if (signal.aborted && !(signal.reason instanceof AgentTimeout)) {
      return signal.reason; // the caller aborted: give them their own reason back
    }
    if (signal.aborted) {
      return new AgentUnreachableError(`no answer from the agent within ${this.#timeoutMs} ms`, { cause: error });
    }
    const detail = error instanceof Error ? error.message : String(error);
    return new AgentUnreachableError(`cannot reach the agent at ${this.#baseUrl.origin}: ${detail}`, { cause: error });
  }
}

/** The abort reason of this client's own timer, told apart from a caller's abort. */
class AgentTimeout extends Error {
  constructor() {
    super("agent request timed out");
    this.name = "AgentTimeout";
  }
}

/** The AgentError for a non-2xx answer, from the agent's `{"error": {...}}` body when it has one. */
async function errorFromResponse(response: Response): Promise<AgentError> {
  const text = await response.text().catch(() => "");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const body = readErrorBody(parsed) ?? {
    message: response.statusText || `HTTP ${response.status}`,
    type: "",
    code: `HTTP_${response.status}`,
  };
  const retryAfter = Number.parseInt(response.headers.get("retry-after") ?? "", 10);
  return new AgentError({
    status: response.status,
    body,
    challenge: response.headers.get("www-authenticate") ?? undefined,
    retryAfterS: Number.isNaN(retryAfter) ? undefined : retryAfter,
  });
}

function propagatedHeaders(given: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(given ?? {})) {
    const lower = name.toLowerCase();
    if (PROPAGATED_HEADERS.includes(lower) && typeof value === "string" && !/[\r\n]/.test(value)) {
      headers[lower] = value;
    }
  }
  return headers;
}
