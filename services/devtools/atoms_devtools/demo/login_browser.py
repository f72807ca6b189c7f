"""LoginBrowser: a person at the local AuthKit's login page, played over HTTP the way a browser would.

It opens the authorize URL, reads the HTML form it is given (hidden fields included), types
an email, picks an organization when asked, submits, and stops at the redirect back to the
client, which carries `code` and `state` (or `error`). No JavaScript is involved, as none is
needed. The demo uses it to sign its user in; the tests use it to play the person in every
OAuth dance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx

_REDIRECTS = (301, 302, 303, 307, 308)


class LoginPageError(RuntimeError):
    """The login page did not lead back to the client (the message carries the page's text)."""


@dataclass
class HtmlForm:
    """One `<form>`: where it goes, its prefilled values, and the choices of its radio buttons."""

    action: str
    method: str
    values: dict[str, str] = field(default_factory=dict)
    radios: dict[str, list[str]] = field(default_factory=dict)

    def has_field(self, name: str) -> bool:
        """Whether the form has an input of that name."""
        return name in self.values or name in self.radios


@dataclass(frozen=True)
class ClientRedirect:
    """Where the login page sent the browser: the client's redirect URI and its parameters."""

    location: str
    parameters: dict[str, str]

    @property
    def code(self) -> str | None:
        """The authorization code, if the sign-in succeeded."""
        return self.parameters.get("code")

    @property
    def state(self) -> str | None:
        """The `state` the client sent, returned unchanged."""
        return self.parameters.get("state")

    @property
    def error(self) -> str | None:
        """The OAuth error, if the sign-in failed."""
        return self.parameters.get("error")


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[HtmlForm] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(HtmlForm(attributes.get("action", ""), attributes.get("method", "get").lower()))
        elif tag == "input" and self.forms and attributes.get("name"):
            form, name = self.forms[-1], attributes["name"]
            if attributes.get("type") == "radio":
                form.radios.setdefault(name, []).append(attributes.get("value", ""))
            else:
                form.values[name] = attributes.get("value", "")

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def parse_forms(html: str) -> tuple[list[HtmlForm], str]:
    """Return the page's forms and its visible text."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms, " ".join(parser.text)


class LoginBrowser:
    """Signs a dev user in at the local AuthKit's login page."""

    def __init__(self, http: httpx.AsyncClient, *, on_hop: Callable[[str], None] | None = None) -> None:
        """Args:
        http: the client to browse with (the caller owns it); redirects are followed here, by hand.
        on_hop: told one line per HTTP exchange (the demo prints them).
        """
        self._http = http
        self._on_hop = on_hop or (lambda line: None)

    async def sign_in(
        self, authorize_url: str, *, email: str, organization_id: str | None = None
    ) -> ClientRedirect:
        """Open `authorize_url`, sign in as `email`, and return the redirect back to the client.

        Args:
            authorize_url: the URL a client sent the browser to.
            email: the dev user to type in.
            organization_id: the organization to pick when the page asks for one.

        Raises:
            LoginPageError: a page refused (unknown user, expired request, ...) or asked for an
                organization that was not given.
        """
        response = await self._http.get(authorize_url)
        self._hop("GET", authorize_url, response)
        if response.status_code in _REDIRECTS:
            return _client_redirect(response)
        wanted = {"email": email, "action": "sign-in"}
        response = await self._submit(response, wanted)
        if response.status_code in _REDIRECTS:
            return _client_redirect(response)
        form = _login_form(response)
        if not form.has_field("organization_id") or organization_id is None:
            raise LoginPageError(f"the login page did not sign in: {_problem(response)}")
        response = await self._submit(response, {**wanted, "organization_id": organization_id})
        if response.status_code in _REDIRECTS:
            return _client_redirect(response)
        raise LoginPageError(f"the login page did not sign in: {_problem(response)}")

    async def _submit(self, page: httpx.Response, wanted: dict[str, str]) -> httpx.Response:
        form = _login_form(page)
        target = urljoin(str(page.url), form.action)
        response = await self._http.post(target, data={**form.values, **wanted})
        self._hop("POST", target, response, sent=wanted)
        return response

    def _hop(
        self, method: str, url: str, response: httpx.Response, *, sent: dict[str, str] | None = None
    ) -> None:
        parts = urlsplit(url)
        typed = " ".join(f"{name}={value}" for name, value in (sent or {}).items() if name != "action")
        form = f" {typed}" if typed else ""
        where = f"-> {response.status_code}"
        if response.status_code in _REDIRECTS:
            target = urlsplit(response.headers.get("location", ""))
            names = [name for name, _ in parse_qsl(target.query)]
            where += f" to {target.scheme}://{target.netloc}{target.path}?{'&'.join(f'{n}=…' for n in names)}"
        elif "text/html" in response.headers.get("content-type", ""):
            where += " login page" if "Sign in" in response.text else " page"
        self._on_hop(f"browser {method} {parts.path}{form} {where}")


def _login_form(response: httpx.Response) -> HtmlForm:
    forms, text = parse_forms(response.text)
    form = next((f for f in forms if f.method == "post" and "email" in f.values), None)
    if form is None:
        raise LoginPageError(f"HTTP {response.status_code} without a login form: {text[:300]}")
    return form


def _problem(response: httpx.Response) -> str:
    return f"HTTP {response.status_code}: {parse_forms(response.text)[1][:300]}"


def _client_redirect(response: httpx.Response) -> ClientRedirect:
    location = response.headers["location"]
    return ClientRedirect(location=location, parameters=dict(parse_qsl(urlsplit(location).query)))
