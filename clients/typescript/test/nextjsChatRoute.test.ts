import assert from "node:assert/strict";
import { test } from "node:test";

import { createChatRoute } from "../examples/nextjs-chat-route.js";

const request = (): Request =>
  new Request("http://127.0.0.1:3000/api/chat", {
    method: "POST",
    body: JSON.stringify({ messages: [{ role: "user", content: "who am I" }] }),
  });

test("building the route reads no setting: `next build` loads it with none", () => {
  assert.doesNotThrow(() => createChatRoute({ agentUrl: () => undefined, session: () => ({ accessToken: "t" }) }));
});

test("an unset agent URL is a 500 naming the variable, at request time", async () => {
  const route = createChatRoute({ agentUrl: () => undefined, session: () => ({ accessToken: "t" }) });

  const response = await route(request());

  assert.equal(response.status, 500);
  const body = (await response.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, "NOT_CONFIGURED");
  assert.match(body.error.message, /ATOMS_AGENT_HTTP_URL/);
});
