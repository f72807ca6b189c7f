/**
 * Why a call to the agent failed.
 *
 *   AgentClientError           any failure of this client
 *     AgentError               the agent answered with an error: HTTP status and the agent's reason code
 *     AgentUnreachableError    no answer: connection refused, DNS failure, timeout
 *     AgentProtocolError       an answer that is not what the agent's API promises
 *
 * Messages never contain the user's token.
 */

/** The root of this client's errors. */
export class AgentClientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AgentClientError";
  }
}

/** What the agent put in its `{"error": {...}}` body. */
export interface AgentErrorBody {
  readonly message: string;
  /** The gRPC status name in lower case: `unauthenticated`, `unavailable`, ... */
  readonly type: string;
  /** The reason code: `INVALID_SIGNATURE`, `MISSING_TOKEN`, `MODEL_NOT_CONFIGURED`, ... */
  readonly code: string;
}

/** The agent refused or failed the request. */
export class AgentError extends AgentClientError {
  /** The HTTP status (for an error sent inside a stream, the status the agent gives that error before streaming). */
  readonly status: number;
  /** The agent's reason code, e.g. `INVALID_SIGNATURE`; `HTTP_<status>` when the body had none. */
  readonly code: string;
  /** The agent's error type (lower-case gRPC status name), or `""`. */
  readonly type: string;
  /** The agent's own message. */
  readonly agentMessage: string;
  /** The `WWW-Authenticate` challenge of a 401, if any. */
  readonly challenge: string | undefined;
  /** Seconds to wait before retrying, from `Retry-After`, if any. */
  readonly retryAfterS: number | undefined;
  /** True when the error arrived inside an already started stream. */
  readonly inStream: boolean;

  constructor(init: {
    status: number;
    body: AgentErrorBody;
    challenge?: string | undefined;
    retryAfterS?: number | undefined;
    inStream?: boolean;
  }) {
    super(`agent answered ${init.status} ${init.body.code}: ${init.body.message}`);
    this.name = "AgentError";
    this.status = init.status;
    this.code = init.body.code;
    this.type = init.body.type;
    this.agentMessage = init.body.message;
    this.challenge = init.challenge;
    this.retryAfterS = init.retryAfterS;
    this.inStream = init.inStream ?? false;
  }
}

/** The agent could not be reached or did not answer in time. */
export class AgentUnreachableError extends AgentClientError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AgentUnreachableError";
  }
}

/** The agent's answer could not be read as its API promises. */
export class AgentProtocolError extends AgentClientError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AgentProtocolError";
  }
}

// The agent's table (services/agent/atoms_agent/http_api.py `_HTTP_STATUS`), for errors sent in a stream
// after the 200 went out: the status the same error gets when it happens before streaming.
const STATUS_OF_TYPE: Readonly<Record<string, number>> = {
  invalid_argument: 400,
  failed_precondition: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  resource_exhausted: 429,
  unavailable: 503,
  deadline_exceeded: 504,
};

/** The HTTP status the agent uses for an error of this type. */
export function statusOfErrorType(type: string): number {
  return STATUS_OF_TYPE[type] ?? 500;
}

/** The `error` member of an agent error body, or undefined when `value` is not one. */
export function readErrorBody(value: unknown): AgentErrorBody | undefined {
  if (typeof value !== "object" || value === null || !("error" in value)) {
    return undefined;
  }
  const error: unknown = value.error;
  if (typeof error !== "object" || error === null) {
    return undefined;
  }
  const field = (name: string): string => {
    const item: unknown = (error as Record<string, unknown>)[name];
    return typeof item === "string" ? item : "";
  };
  return { message: field("message"), type: field("type"), code: field("code") };
}
