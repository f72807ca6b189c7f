import { describe, expect, it } from "vitest";

import {
  applyChatEvent,
  conversationOf,
  emptyAnswer,
  errorOfBody,
  formatToolResult,
  type Turn,
} from "../src/lib/chat/chatEvents";

const chunk = (delta: object, finish: string | null = null) => ({
  object: "chat.completion.chunk",
  choices: [{ index: 0, delta, finish_reason: finish }],
});

describe("applyChatEvent", () => {
  it("appends streamed text and keeps the finish reason", () => {
    let turn = emptyAnswer();
    for (const event of [chunk({ role: "assistant" }), chunk({ content: "You are " }), chunk({ content: "user_ada." }), chunk({}, "stop")]) {
      turn = applyChatEvent(turn, event);
    }

    expect(turn).toEqual({ role: "assistant", content: "You are user_ada.", toolCalls: [], finishReason: "stop" });
  });

  it("assembles a tool call from fragments and attaches its result", () => {
    let turn = emptyAnswer();
    turn = applyChatEvent(turn, chunk({ tool_calls: [{ index: 0, id: "call_1", function: { name: "atoms__create_project", arguments: '{"name":' } }] }));
    turn = applyChatEvent(turn, chunk({ tool_calls: [{ index: 0, function: { arguments: '"Apollo"}' } }] }));
    turn = applyChatEvent(turn, chunk({ tool_result: { tool_call_id: "call_1", content: '{"id":"p1"}', is_error: false } }));

    expect(turn.toolCalls).toEqual([
      { id: "call_1", name: "atoms__create_project", arguments: '{"name":"Apollo"}', result: '{"id":"p1"}', isError: false },
    ]);
  });

  it("marks a failed tool call", () => {
    let turn = applyChatEvent(emptyAnswer(), chunk({ tool_calls: [{ id: "call_1", function: { name: "atoms__whoami" } }] }));
    turn = applyChatEvent(turn, chunk({ tool_result: { tool_call_id: "call_1", content: "denied", is_error: true } }));

    expect(turn.toolCalls[0]).toMatchObject({ result: "denied", isError: true });
  });

  it("shows an in-band error", () => {
    const turn = applyChatEvent(emptyAnswer(), { error: { code: "MODEL_UNAVAILABLE", message: "the model is down" } });

    expect(turn.error).toEqual({ code: "MODEL_UNAVAILABLE", message: "the model is down" });
  });

  it.each([null, "text", 42, [], { object: "other" }, { object: "chat.completion.chunk", choices: "x" }])(
    "ignores %j",
    (event) => {
      expect(applyChatEvent(emptyAnswer(), event)).toEqual(emptyAnswer());
    },
  );
});

describe("errorOfBody", () => {
  it("reads the route's error body, or names the status", () => {
    expect(errorOfBody({ error: { code: "NOT_SIGNED_IN", message: "sign in to chat" } }, 401)).toEqual({
      code: "NOT_SIGNED_IN",
      message: "sign in to chat",
    });
    expect(errorOfBody(undefined, 502)).toEqual({ code: "HTTP_502", message: "the chat answered HTTP 502" });
  });
});

describe("conversationOf", () => {
  it("sends the text of the turns, without failed or empty answers", () => {
    const turns: Turn[] = [
      { role: "user", content: "who am I" },
      { role: "assistant", content: "", toolCalls: [], error: { code: "X", message: "y" } },
      { role: "user", content: "who am I" },
      { role: "assistant", content: "You are user_ada.", toolCalls: [{ id: "c", name: "atoms__whoami", arguments: "{}" }] },
      { role: "user", content: "list my projects" },
    ];

    expect(conversationOf(turns)).toEqual([
      { role: "user", content: "who am I" },
      { role: "user", content: "who am I" },
      { role: "assistant", content: "You are user_ada." },
      { role: "user", content: "list my projects" },
    ]);
  });
});

describe("formatToolResult", () => {
  it("indents JSON and leaves other text as it is", () => {
    expect(formatToolResult('{"subject":"user_ada"}')).toBe('{\n  "subject": "user_ada"\n}');
    expect(formatToolResult("not json {")).toBe("not json {");
  });
});
