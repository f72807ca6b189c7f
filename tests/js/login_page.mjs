// The person at the local AuthKit's login page, played over plain HTTP as a browser without
// JavaScript would: open the authorization URL, read the form, submit an email, stop at the
// redirect back to the client. Used by the Node tests of the sign-in flows.

/** The first POST form of a login page: its action and hidden fields (HTML entities decoded). */
export function loginForm(html) {
  const form = html.match(/<form method="post" action="([^"]+)">([\s\S]*?)<\/form>/);
  if (!form) throw new Error("the login page has no form");
  const hidden = {};
  for (const input of form[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    hidden[input[1]] = input[2].replaceAll("&quot;", '"').replaceAll("&#x27;", "'").replaceAll("&amp;", "&");
  }
  return { action: form[1], hidden };
}

/**
 * Sign `email` in at `authorizationUrl`; return the URL the login page redirects back to.
 * `fetchFn` lets the caller record the hops.
 */
export async function signInAtTheLoginPage(authorizationUrl, email, fetchFn = fetch) {
  const page = await fetchFn(authorizationUrl, { redirect: "manual" });
  if (page.status !== 200) throw new Error(`the authorization URL answered ${page.status}`);
  const form = loginForm(await page.text());
  const submitted = await fetchFn(new URL(form.action, authorizationUrl), {
    method: "POST",
    body: new URLSearchParams({ ...form.hidden, email, action: "sign-in" }),
    redirect: "manual",
  });
  if (submitted.status !== 303) throw new Error(`the login form answered ${submitted.status}`);
  return new URL(submitted.headers.get("location"));
}
