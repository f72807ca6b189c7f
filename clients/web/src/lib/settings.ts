/**
 * The app's settings, read from the environment when a request needs them, never at build time
 * or module load: one build runs in every environment, and a missing setting is a clear error
 * naming the variable at the first request that needs it.
 */

/** A required setting is missing or malformed; the message names the variable, never a secret value. */
export class SettingError extends Error {
  readonly variable: string;

  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`);
    this.name = "SettingError";
    this.variable = variable;
  }
}

type Environment = Readonly<Record<string, string | undefined>>;

/** The value of `variable`, trimmed. @throws SettingError when it is unset or empty. */
export function requiredSetting(variable: string, env: Environment = process.env): string {
  const value = env[variable]?.trim();
  if (value === undefined || value === "") {
    throw new SettingError(variable, "is not set: see docs/front-end.md");
  }
  return value;
}

/** `variable` as an http(s) URL. @throws SettingError when it is unset or not an http(s) URL. */
export function requiredUrlSetting(variable: string, env: Environment = process.env): URL {
  return parseHttpUrl(variable, requiredSetting(variable, env));
}

/** `variable` as an http(s) URL, or undefined when unset. @throws SettingError when it is not an http(s) URL. */
export function optionalUrlSetting(variable: string, env: Environment = process.env): URL | undefined {
  const value = env[variable]?.trim();
  return value === undefined || value === "" ? undefined : parseHttpUrl(variable, value);
}

function parseHttpUrl(variable: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new SettingError(variable, "is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new SettingError(variable, "must be an http(s) URL");
  }
  return url;
}

/** The agent's HTTP face, e.g. `http://127.0.0.1:3284`. */
export const AGENT_URL_VARIABLE = "ATOMS_AGENT_HTTP_URL";
/** The AuthKit callback of this app; its origin is also where sign-out returns to. */
export const REDIRECT_URI_VARIABLE = "NEXT_PUBLIC_WORKOS_REDIRECT_URI";
