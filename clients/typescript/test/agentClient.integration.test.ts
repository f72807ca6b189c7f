// AgentClient and the example route against a RUNNING agent, auth service and Atoms MCP.
//
// tests/clients/test_typescript_client.py starts that stack (emulator tokens, a local model that
// calls the Atoms MCP `whoami` tool) and runs this suite with:
//   ATOMS_TEST_AGENT_HTTP_URL   the agent's HTTP face
//   ATOMS_TEST_TOKEN            a valid emulator token for ATOMS_TEST_SUBJECT
//   ATOMS_TEST_TAMPERED_TOKEN   the same token with its signature changed
//   ATOMS_TEST_SUBJECT          the token's `sub`
// Without them (plain `npm test`) these tests are skipped, with that reason.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { createChatRoute } from "../examples/nextjs-chat-route.js";
import {
  AgentClient,
  AgentError,
  chunkText,
  completionText,
  readServerSentEvents,
  type SessionSource,
} from "../src/index.js";

const agentUrl = process.env.ATOMS_TEST_AGENT_HTTP_URL ?? "";
const token = process.env.ATOMS_TEST_TOKEN ?? "";
const tamperedToken = process.env.ATOMS_TEST_TAMPERED_TOKEN ?? "";
const subject = process.env.ATOMS_TEST_SUBJECT ?? "";
const missing = Object.entries({
  ATOMS_TEST_AGENT_HTTP_URL: agentUrl,
  ATOMS_TEST_TOKEN: token,
  ATOMS_TEST_TAMPERED_TOKEN: tamperedToken,
  ATOMS_TEST_SUBJECT: subject,
})
  .filter(([, value]) => value === "")
  .map(([name]) => name);
const skip =
  missing.length > 0
    ? `no running agent: ${missing.join(", ")} unset (tests/clients/test_typescript_client.py sets them)`
    : false;
if (skip !== false) {
  console.log(`integration tests skipped: ${skip}`);
}

const MESSAGES = [{ role: "user", content: "who am I?" }] as const;
// whoami's JSON result, quoted by the model: `"subject": "<sub>"`.
const WHOAMI_OF_SUBJECT = new RegExp(`"subject":\\s*"${subject.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`);
const signedIn: SessionSource = async () => ({ accessToken: token });
const tampered: SessionSource = () => ({ accessToken: tamperedToken });
const signedOut: SessionSource = () => undefined;

function clientFor(session: SessionSource): AgentClient {
  return new AgentClient({ baseUrl: agentUrl, session, timeoutMs: 30_000 });
}

/** Asserts an AgentError with this status and reason code. */
function refusedWith(status: number, code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof AgentError, `expected an AgentError, got ${String(error)}`);
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    return true;
  };
}

describe("AgentClient against the running agent", { skip }, () => {
  test("health answers ok", async () => {
    assert.deepEqual(await clientFor(signedOut).checkHealth(), { status: "ok" });
  });

  test("a valid token's chat runs whoami through the Atoms MCP as that user", async () => {
    const completion = await clientFor(signedIn).createChatCompletion({ messages: MESSAGES });
    assert.equal(completion.object, "chat.completion");
    assert.equal(completion.choices[0]?.finish_reason, "stop");
    assert.match(completionText(completion), WHOAMI_OF_SUBJECT);
  });

  test("a valid token's streamed chat arrives in chunks and ends with stop", async () => {
    const stream = await clientFor(signedIn).streamChatCompletion({ messages: MESSAGES });
    let text = "";
    let finishReason: string | null = null;
    for await (const chunk of stream) {
      text += chunkText(chunk);
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    }
    assert.match(text, WHOAMI_OF_SUBJECT);
    assert.equal(finishReason, "stop");
  });

  test("a tampered token is refused with 401 INVALID_SIGNATURE and a bearer challenge", async () => {
    await assert.rejects(clientFor(tampered).createChatCompletion({ messages: MESSAGES }), (error: unknown) => {
      refusedWith(401, "INVALID_SIGNATURE")(error);
      assert.match((error as AgentError).challenge ?? "", /^Bearer error="invalid_token"/);
      return true;
    });
  });

  test("a tampered token's stream is refused before any chunk", async () => {
    await assert.rejects(
      clientFor(tampered).streamChatCompletion({ messages: MESSAGES }),
      refusedWith(401, "INVALID_SIGNATURE"),
    );
  });

  test("no token is refused with 401 MISSING_TOKEN", async () => {
    await assert.rejects(
      clientFor(signedOut).createChatCompletion({ messages: MESSAGES }),
      refusedWith(401, "MISSING_TOKEN"),
    );
  });

  test("an unknown role is refused with 400 INVALID_REQUEST", async () => {
    const messages = [{ role: "tool", content: "x" }] as unknown as typeof MESSAGES;
    await assert.rejects(clientFor(signedIn).createChatCompletion({ messages }), refusedWith(400, "INVALID_REQUEST"));
  });
});

describe("the example Next.js chat route against the running agent", { skip }, () => {
  function post(session: SessionSource): Promise<Response> {
    const route = createChatRoute({ agentUrl, session });
    return route(
      new Request("http://app.test/api/chat", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: MESSAGES }),
      }),
    );
  }

  test("streams the signed-in user's answer as server-sent events", async () => {
    const response = await post(signedIn);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.ok(response.body !== null);
    const events: string[] = [];
    for await (const data of readServerSentEvents(response.body)) {
      events.push(data);
    }
    assert.equal(events.at(-1), "[DONE]");
    const text = events
      .slice(0, -1)
      .map((data) => JSON.parse(data) as { choices: { delta: { content?: string } }[] })
      .map((chunk) => chunk.choices[0]?.delta.content ?? "")
      .join("");
    assert.match(text, WHOAMI_OF_SUBJECT);
  });

  test("passes the agent's 401 and reason to the page when nobody is signed in", async () => {
    const response = await post(signedOut);
    assert.equal(response.status, 401);
    const body = (await response.json()) as { error: { code: string } };
    assert.equal(body.error.code, "MISSING_TOKEN");
  });
});
