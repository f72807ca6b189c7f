/**
 * The home page: "Sign in" when nobody is signed in; otherwise who is signed in (user and
 * organization), the chat, and "Sign out". The access token stays on the server: only the
 * user's name, ids and organization reach the page.
 */
import { currentSession } from "../lib/mcp/auth";
import { firstPartyMcps } from "../lib/mcp/registry";
import { signOutAction } from "./actions";
import { Chat } from "./chat";

export const dynamic = "force-dynamic";

export default async function Home() {
  const session = await currentSession();
  if (session === undefined) {
    return (
      <main className="signed-out">
        <section className="card">
          <h1>Atoms chat</h1>
          <p>Chat with the Atoms agent as yourself. It works on your projects, documents and requirements through the Atoms MCP, with your sign-in: no other prompt.</p>
          <a className="button primary" href="/login" data-testid="sign-in">
            Sign in
          </a>
        </section>
      </main>
    );
  }
  const atoms = firstPartyMcps().atoms;
  return (
    <main className="app">
      <header className="topbar">
        <div className="brand">Atoms chat</div>
        <div className="identity" data-testid="identity">
          <span className="name">{session.name}</span>
          <span className="detail">
            <span data-testid="user-email">{session.email}</span> · <code data-testid="user-id">{session.userId}</code>
          </span>
          <span className="detail">
            organization <code data-testid="organization-id">{session.organizationId ?? "none"}</code>
            {session.role === undefined ? null : <> · role {session.role}</>}
          </span>
        </div>
        <form action={signOutAction}>
          <button className="button" type="submit" data-testid="sign-out">
            Sign out
          </button>
        </form>
      </header>
      <Chat mcpName={atoms.name} />
    </main>
  );
}
