"use client";
/**
 * The chat view: the conversation, each answer streaming in, each tool call the agent made and
 * its result. It talks to `/api/chat` only; the session cookie is the credential, the page
 * never sees a token.
 */
import { readServerSentEvents } from "@atoms/agent-client";
import { useEffect, useRef, useState, type FormEvent } from "react";

import {
  applyChatEvent,
  conversationOf,
  emptyAnswer,
  errorOfBody,
  formatToolResult,
  type AssistantTurn,
  type Turn,
} from "../lib/chat/chatEvents";

const EXAMPLES = ["who am I", "create a project called Apollo", "list my projects"];

export function Chat({ mcpName }: { mcpName: string }) {
  const [turns, setTurns] = useState<Turn[]>([]);
  const [draft, setDraft] = useState("");
  const [busy, setBusy] = useState(false);
  const bottom = useRef<HTMLDivElement>(null);

  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" }); // after each render of a new piece: the latest stays in view
  }, [turns]);

  async function send(text: string): Promise<void> {
    const question = text.trim();
    if (question === "" || busy) {
      return;
    }
    const asked: Turn[] = [...turns, { role: "user", content: question }];
    let answer = emptyAnswer();
    const show = (next: AssistantTurn): void => {
      answer = next;
      setTurns([...asked, answer]);
    };
    setDraft("");
    setBusy(true);
    show(answer);
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ messages: conversationOf(asked) }),
      });
      if (!response.ok || response.body === null) {
        const body: unknown = await response.json().catch(() => undefined);
        show({ ...answer, error: errorOfBody(body, response.status) });
        return;
      }
      for await (const data of readServerSentEvents(response.body)) {
        if (data === "[DONE]") {
          break;
        }
        show(applyChatEvent(answer, JSON.parse(data)));
      }
    } catch (error) {
      show({ ...answer, error: { code: "NETWORK", message: error instanceof Error ? error.message : String(error) } });
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent<HTMLFormElement>): void {
    event.preventDefault();
    void send(draft);
  }

  return (
    <section className="chat">
      <div className="conversation" data-testid="conversation">
        {turns.length === 0 ? (
          <div className="hint">
            <p>Ask the agent. It uses the {mcpName} as you. Try:</p>
            <div className="examples">
              {EXAMPLES.map((example) => (
                <button key={example} className="button ghost" type="button" onClick={() => void send(example)}>
                  {example}
                </button>
              ))}
            </div>
          </div>
        ) : null}
        {turns.map((turn, index) =>
          turn.role === "user" ? (
            <div key={index} className="turn user" data-testid="user-turn">
              <div className="bubble">{turn.content}</div>
            </div>
          ) : (
            <AnswerView key={index} turn={turn} streaming={busy && index === turns.length - 1} />
          ),
        )}
        <div ref={bottom} />
      </div>
      <form className="composer" onSubmit={submit}>
        <input
          aria-label="Message"
          data-testid="message"
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          placeholder="Ask the agent, e.g. “who am I”"
          maxLength={32 * 1024}
          autoFocus
        />
        <button className="button primary" type="submit" disabled={busy || draft.trim() === ""} data-testid="send">
          {busy ? "…" : "Send"}
        </button>
      </form>
    </section>
  );
}

function AnswerView({ turn, streaming }: { turn: AssistantTurn; streaming: boolean }) {
  const done = !streaming;
  return (
    <div className="turn assistant" data-testid="assistant-turn" data-done={String(done)}>
      {turn.toolCalls.map((call) => (
        <details key={call.id} className={`tool ${call.isError === true ? "failed" : ""}`} data-testid="tool-call" open>
          <summary>
            <span className="tool-label">tool</span> <code data-testid="tool-name">{call.name || "?"}</code>
            <code className="arguments">{call.arguments || "{}"}</code>
          </summary>
          {call.result === undefined ? (
            <div className="pending">running…</div>
          ) : (
            <pre data-testid="tool-result">{formatToolResult(call.result)}</pre>
          )}
        </details>
      ))}
      {turn.content !== "" || streaming ? (
        <div className="bubble" data-testid="answer">
          {turn.content}
          {streaming ? <span className="cursor">▍</span> : null}
        </div>
      ) : null}
      {turn.error === undefined ? null : (
        <div className="error" role="alert" data-testid="chat-error">
          <strong>{turn.error.code}</strong> {turn.error.message}
        </div>
      )}
    </div>
  );
}
