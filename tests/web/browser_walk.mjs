// The person's path through the Atoms chat front end, in Debian's Chromium driven by playwright-core
// (which never downloads a browser). Run by tests/web/test_browser_chat.py:
//
//   node tests/web/browser_walk.mjs CONFIG.json
//
// CONFIG: { webUrl, issuer, shotsDir, profilesDir, accessTokenTtlS, chromium }. It walks the
// steps, takes a screenshot of each under shotsDir, and prints one JSON line of what the pages
// showed (and what the local AuthKit counted) for pytest to assert on. It asserts nothing
// itself; it exits 1 only when a step could not be performed, with the reason on stderr.
import { mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = path.resolve(here, "../../clients/web");
const { chromium } = createRequire(path.join(webDir, "package.json"))("playwright-core");

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const STEP_TIMEOUT_MS = 30_000;
const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const observed = { steps: [], tokenSightings: [], consoleErrors: [] };
let shot = 0;

/** A fresh browser profile for one person (its own cookies), in headless Debian Chromium. */
async function openBrowser(who) {
  const profile = mkdtempSync(path.join(config.profilesDir, `${who}-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: config.chromium,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1100, height: 760 },
  });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (message) => {
    if (JWT.test(message.text())) {
      observed.tokenSightings.push(`${who}: console`);
    }
    if (message.type() === "error") {
      observed.consoleErrors.push(`${who}: ${message.text()}`);
    }
  });
  page.on("response", async (response) => {
    // Every answer of the web app that the page receives: none may carry a token.
    if (!response.url().startsWith(config.webUrl)) {
      return;
    }
    const body = await response.text().catch(() => "");
    if (JWT.test(body) || JWT.test(JSON.stringify(await response.allHeaders()))) {
      observed.tokenSightings.push(`${who}: response ${new URL(response.url()).pathname}`);
    }
  });
  return { context, page };
}

async function screenshot(page, name) {
  shot += 1;
  const file = path.join(config.shotsDir, `${String(shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function checkPageForTokens(page, who, step) {
  const html = await page.content();
  const text = await page.evaluate(() => document.body.innerText);
  const storage = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
  const scriptCookies = await page.evaluate(() => document.cookie);
  for (const [where, value] of [["html", html], ["text", text], ["storage", storage], ["document.cookie", scriptCookies]]) {
    if (JWT.test(value)) {
      observed.tokenSightings.push(`${who}: ${where} at ${step}`);
    }
  }
}

async function stats() {
  const response = await fetch(`${config.issuer}/dev/stats`);
  return response.json();
}

async function signIn(page, who, email) {
  await page.goto(config.webUrl);
  const signedOut = await screenshot(page, `${who}-signed-out`);
  await page.getByTestId("sign-in").click();
  await page.waitForURL((url) => url.href.startsWith(config.issuer));
  const loginUrl = page.url();
  await page.locator("input#email").fill(email);
  const loginPage = await screenshot(page, `${who}-login-page`);
  await page.locator('button[name="action"][value="sign-in"]').first().click();
  await page
    .getByTestId("identity")
    .waitFor()
    .catch(async (error) => {
      await screenshot(page, `${who}-sign-in-failed`);
      throw new Error(`${who} is not signed in: the page is ${page.url()}: ${(await page.content()).slice(0, 600)}`, { cause: error });
    });
  const signedInAt = Date.now();
  await checkPageForTokens(page, who, "signed in");
  observed.steps.push({
    step: "signed in",
    who,
    loginUrl: new URL(loginUrl).pathname,
    userId: await page.getByTestId("user-id").innerText(),
    organizationId: await page.getByTestId("organization-id").innerText(),
    email: await page.getByTestId("user-email").innerText(),
    stats: await stats(),
    screenshots: [signedOut, loginPage, await screenshot(page, `${who}-signed-in`)],
  });
  return signedInAt;
}

async function ask(page, who, question, name) {
  const before = await page.getByTestId("assistant-turn").count();
  await page.getByTestId("message").fill(question);
  await page.getByTestId("send").click();
  const answer = page.getByTestId("assistant-turn").nth(before);
  await answer.and(page.locator('[data-done="true"]')).waitFor();
  await checkPageForTokens(page, who, question);
  const toolCalls = [];
  for (const call of await answer.getByTestId("tool-call").all()) {
    toolCalls.push({
      name: await call.getByTestId("tool-name").innerText(),
      result: (await call.getByTestId("tool-result").count()) > 0 ? await call.getByTestId("tool-result").innerText() : null,
    });
  }
  const error = answer.getByTestId("chat-error");
  observed.steps.push({
    step: "asked",
    who,
    question,
    answer: (await answer.getByTestId("answer").count()) > 0 ? await answer.getByTestId("answer").innerText() : "",
    toolCalls,
    error: (await error.count()) > 0 ? await error.innerText() : null,
    stats: await stats(),
    screenshots: [await screenshot(page, name)],
  });
}

async function chatStatus(page) {
  return page.evaluate(async () => {
    const response = await fetch("/api/chat", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "who am I" }] }),
    });
    return { status: response.status, body: await response.text() };
  });
}

async function main() {
  const ada = await openBrowser("ada");
  try {
    const signedInAt = await signIn(ada.page, "ada", "ada@acme.test");
    await ask(ada.page, "ada", "who am I", "ada-who-am-i");
    await ask(ada.page, "ada", "create a project called Apollo", "ada-create-project");
    await ask(ada.page, "ada", "list my projects", "ada-list-projects");
    // Let the access token expire (its lifetime is accessTokenTtlS), then chat again: the
    // proxy refreshes the session with the refresh token, with no prompt.
    const expired = signedInAt + (config.accessTokenTtlS + 1) * 1000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expired - Date.now())));
    await ask(ada.page, "ada", "who am I", "ada-after-token-expired");
    await ada.page.getByTestId("sign-out").click();
    await ada.page.getByTestId("sign-in").waitFor();
    await checkPageForTokens(ada.page, "ada", "signed out");
    observed.steps.push({
      step: "signed out",
      who: "ada",
      url: ada.page.url(),
      chat: await chatStatus(ada.page),
      stats: await stats(),
      screenshots: [await screenshot(ada.page, "ada-signed-out-again")],
    });
  } finally {
    await ada.context.close();
  }
  const hedy = await openBrowser("hedy");
  try {
    await signIn(hedy.page, "hedy", "hedy@globex.test");
    await ask(hedy.page, "hedy", "list my projects", "hedy-list-projects");
  } finally {
    await hedy.context.close();
  }
  process.stdout.write(`${JSON.stringify(observed)}\n`);
}

main().catch((error) => {
  process.stderr.write(`browser walk failed: ${error?.stack ?? error}\n${JSON.stringify(observed)}\n`);
  process.exit(1);
});
