/**
 * ChatCompletionStream: the chunks of a streamed answer, read from the agent's event stream
 * once, with the connection closed however the reading ends.
 */
import { AgentError, AgentProtocolError, AgentUnreachableError, readErrorBody, statusOfErrorType } from "./agentErrors.js";
import { isChatObject, type ChatCompletionChunk } from "./chatTypes.js";
import { readServerSentEvents } from "./serverSentEvents.js";

/** A started request: its response and a way to release its timer and abort listener. */
export interface StartedRequest {
  readonly response: Response;
  readonly signal: AbortSignal;
  readonly settle: () => void;
}

/** The agent's chat answer as it streams in; iterate it once, or `cancel()` it. */
export class ChatCompletionStream implements AsyncIterable<ChatCompletionChunk> {
  readonly #body: ReadableStream<Uint8Array>;
  readonly #started: StartedRequest;
  #chunks: AsyncGenerator<ChatCompletionChunk> | undefined;

  /** @internal built by AgentClient.streamChatCompletion. */
  constructor(body: ReadableStream<Uint8Array>, started: StartedRequest) {
    this.#body = body;
    this.#started = started;
  }

  /** @throws TypeError when iterated a second time: the answer can be read once. */
  [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk> {
    if (this.#chunks !== undefined) {
      throw new TypeError("a ChatCompletionStream can be iterated once");
    }
    const chunks = readChunks(this.#body, this.#started);
    this.#chunks = chunks;
    return {
      next: () => chunks.next(),
      return: async () => {
        await this.cancel();
        return { done: true, value: undefined };
      },
    };
  }

  /** Stops reading and closes the connection. */
  async cancel(): Promise<void> {
    const chunks = this.#chunks ?? emptyChunks();
    this.#chunks = chunks;
    await chunks.return(undefined);
    if (!this.#body.locked) {
      // Never read: a generator that has not started skips its `finally`, so close the body here.
      this.#started.settle();
      await this.#body.cancel().catch(() => undefined);
    }
  }
}

async function* emptyChunks(): AsyncGenerator<ChatCompletionChunk> {}

async function* readChunks(
  body: ReadableStream<Uint8Array>,
  started: StartedRequest,
): AsyncGenerator<ChatCompletionChunk> {
  try {
    for await (const data of readServerSentEvents(body)) {
      if (data === "[DONE]") {
        return;
      }
      yield parseChunk(data);
    }
    throw new AgentProtocolError("the agent's stream ended without [DONE]");
  } catch (error) {
    if (error instanceof AgentError || error instanceof AgentProtocolError) {
      throw error;
    }
    if (started.signal.aborted) {
      throw started.signal.reason;
    }
    throw new AgentUnreachableError("the agent's stream broke off", { cause: error });
  } finally {
    started.settle();
  }
}

function parseChunk(data: string): ChatCompletionChunk {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (error) {
    throw new AgentProtocolError("an event of the agent's stream is not JSON", { cause: error });
  }
  const error = readErrorBody(value);
  if (error !== undefined) {
    throw new AgentError({ status: statusOfErrorType(error.type), body: error, inStream: true });
  }
  if (!isChatObject(value, "chat.completion.chunk")) {
    throw new AgentProtocolError("an event of the agent's stream is not a chat.completion.chunk");
  }
  return value as ChatCompletionChunk;
}
