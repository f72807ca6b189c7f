"""The sign-in endpoints over HTTP: request parsing and response shapes only; the rules live in `SignIn`.

    GET  /user_management/authorize         the WorkOS form of an authorize request -> login page
    GET  /oauth2/authorize                  the OAuth 2.1 form (MCP clients) -> login page
    POST /sign-in                           the login page's form -> 303 to redirect_uri?code&state
    POST /user_management/authenticate      WorkOS: authorization_code and refresh_token grants
    POST /oauth2/token                      OAuth 2.1: the same grants, form-encoded, RFC 6749 shapes
    POST /oauth2/register                   RFC 7591 dynamic registration of public clients
    GET  /user_management/sessions/logout   end the session, redirect to return_to
    GET  /dev/stats                         dev only: how many authorize requests, sign-ins and grants so far

`OAuthError`s from the JSON endpoints become their JSON error in one place (`oauth_error_response`);
the browser-facing endpoints answer with a page or a redirect to the client's checked redirect URI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from atoms_devtools.authkit_emulator.authorization_request import (
    check_oauth_authorize,
    check_resource,
    check_workos_authorize,
)
from atoms_devtools.authkit_emulator.client_registry import ClientRegistry, OAuthClient
from atoms_devtools.authkit_emulator.dev_users import DevUser
from atoms_devtools.authkit_emulator.login_page import login_page, message_page
from atoms_devtools.authkit_emulator.oauth_errors import (
    AccessDeniedError,
    InvalidClientError,
    InvalidRequestError,
    OAuthError,
    UnsupportedGrantTypeError,
    UntrustedRedirectError,
)
from atoms_devtools.authkit_emulator.redirect_uris import origin_allowed, with_parameters
from atoms_devtools.authkit_emulator.request_fields import (
    Fields,
    basic_credentials,
    body_fields,
    json_body,
    query_fields,
)
from atoms_devtools.authkit_emulator.sign_in import IssuedTokens, SignIn
from atoms_devtools.authkit_emulator.sign_in_state import AuthorizationRequest, PendingLogin

logger = logging.getLogger(__name__)

# What WorkOS reports for a sign-in by email code, the closest to the emulator's email-only login.
AUTHENTICATION_METHOD = "MagicAuth"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

AuthorizeCheck = Callable[[Mapping[str, str], ClientRegistry], AuthorizationRequest]


@dataclass
class SignInStats:
    """Counts since start, for tests and people checking that no OAuth prompt happened.

    `authorize_requests` counts login pages shown for an accepted authorize request (each is a
    prompt); `sign_ins` codes issued; the grants count successful token answers.
    """

    authorize_requests: int = 0
    sign_ins: int = 0
    authorization_code_grants: int = 0
    refresh_token_grants: int = 0


async def oauth_error_response(request: Request, exc: Exception) -> JSONResponse:
    """The one place an OAuthError of a JSON endpoint becomes its response."""
    assert isinstance(exc, OAuthError)
    headers = dict(_NO_STORE)
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = 'Basic realm="local-authkit"'
    logger.info("%s %s refused: %s (%s)", request.method, request.url.path, exc.error, exc.description)
    return JSONResponse(exc.body(), status_code=exc.status_code, headers=headers)


class SignInEndpoints:
    """The route handlers of the sign-in flows."""

    def __init__(self, sign_in: SignIn) -> None:
        self._sign_in = sign_in
        self._clients = sign_in.clients
        self._directory = sign_in.directory
        self.stats = SignInStats()

    async def workos_authorize(self, request: Request) -> Response:
        """`GET /user_management/authorize`: show the login page, or say why not."""
        return await self._authorize(request, check_workos_authorize)

    async def oauth_authorize(self, request: Request) -> Response:
        """`GET /oauth2/authorize`: show the login page, or say why not."""
        return await self._authorize(request, check_oauth_authorize)

    async def submit_login(self, request: Request) -> Response:
        """`POST /sign-in`: sign the chosen user in and send the browser back with a code."""
        try:
            fields = await body_fields(request)
        except OAuthError as err:
            return message_page("Sign-in refused", err.description, status_code=err.status_code)
        login = self._sign_in.pending(fields.get("login_request", ""))
        if login is None:
            return message_page(
                "Sign-in expired",
                "This sign-in page has expired or was already used; start again from the application.",
                status_code=400,
            )
        if fields.get("action") == "cancel":
            self._sign_in.cancel(login.id)
            denied = AccessDeniedError("the person cancelled the sign-in")
            return _redirect_with_error(login.request.redirect_uri, login.request.state, denied)
        return await run_in_threadpool(self._finish_login, login, fields)

    async def workos_authenticate(self, request: Request) -> JSONResponse:
        """`POST /user_management/authenticate`: the WorkOS shape (user, organization, tokens)."""
        fields = await body_fields(request)
        client, authenticated = self._authenticate(fields.get("client_id"), fields.get("client_secret"))
        tokens = await self._grant(fields, client, authenticated, resource=None)
        body: dict[str, Any] = {
            "user": tokens.user.to_workos(last_sign_in_at=tokens.session.signed_in_at),
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "authentication_method": AUTHENTICATION_METHOD,
        }
        if tokens.session.organization_id is not None:
            body["organization_id"] = tokens.session.organization_id
        return JSONResponse(body, headers=_NO_STORE)

    async def oauth_token(self, request: Request) -> JSONResponse:
        """`POST /oauth2/token`: the RFC 6749 token response."""
        fields = await body_fields(request)
        client_id, secret = fields.get("client_id"), fields.get("client_secret")
        if (basic := basic_credentials(request)) is not None:
            if secret is not None or (client_id is not None and client_id != basic[0]):
                raise InvalidRequestError("use one client authentication method, not Basic and the body")
            client_id, secret = basic
        client, authenticated = self._authenticate(client_id, secret)
        resource = check_resource(fields.get("resource"), required=False)
        tokens = await self._grant(fields, client, authenticated, resource=resource)
        body: dict[str, Any] = {
            "access_token": tokens.access_token,
            "token_type": "Bearer",
            "expires_in": tokens.expires_in,
            "refresh_token": tokens.refresh_token,
        }
        if tokens.session.scope:
            body["scope"] = tokens.session.scope
        return JSONResponse(body, headers=_NO_STORE)

    async def register(self, request: Request) -> JSONResponse:
        """`POST /oauth2/register`: RFC 7591 registration of a public client."""
        client = self._clients.register(await json_body(request))
        return JSONResponse(client.registration_response(), status_code=201, headers=_NO_STORE)

    async def logout(self, request: Request) -> Response:
        """`GET /user_management/sessions/logout`: end the session, then go to `return_to` if allowed."""
        try:
            fields = query_fields(request)
        except OAuthError as err:
            return message_page("Sign-out refused", err.description, status_code=400)
        session_id = fields.get("session_id")
        if not session_id:
            return message_page("Sign-out refused", "session_id is required", status_code=400)
        session = await run_in_threadpool(self._sign_in.end_session, session_id)
        return_to = fields.get("return_to")
        if not return_to:
            return message_page("Signed out", "You are signed out of the local AuthKit.", status_code=200)
        client = self._client_or_application(session.client_id if session else None)
        if not origin_allowed(return_to, client.redirect_uris):
            return message_page(
                "Signed out",
                "You are signed out, but return_to is not on an origin of the application's redirect "
                "URIs, so the emulator does not go there.",
                status_code=400,
            )
        return RedirectResponse(return_to, status_code=302, headers={"Cache-Control": "no-store"})

    async def dev_stats(self, request: Request) -> JSONResponse:
        """`GET /dev/stats`: the counts of `SignInStats` (dev only, like `/dev/token`)."""
        return JSONResponse(asdict(self.stats), headers=_NO_STORE)

    async def _authorize(self, request: Request, check: AuthorizeCheck) -> Response:
        try:
            fields = query_fields(request)
        except OAuthError as err:
            return message_page("Sign-in request refused", _describe(err), status_code=400)
        try:
            authorization = check(fields, self._clients)
        except UntrustedRedirectError as err:
            return message_page("Sign-in request refused", _describe(err.cause), status_code=400)
        except OAuthError as err:
            # The client and its redirect URI passed their checks: the error goes back there.
            return _redirect_with_error(fields["redirect_uri"], fields.get("state"), err)
        login = self._sign_in.begin(authorization)
        self.stats.authorize_requests += 1
        return await run_in_threadpool(self._render, login, email=authorization.login_hint or "")

    def _finish_login(self, login: PendingLogin, fields: Fields) -> Response:
        email = fields.get("email", "").strip()
        user = self._directory.user_by_email(email)
        if user is None:
            problem = f"No dev user has the email {email[:254]!r}: continue as one below, or add one."
            return self._render(login, email=email, problem=problem, status_code=400)
        wanted = fields.get("organization_id") or login.request.organization_id
        if wanted is not None and user.membership(wanted) is None:
            problem = f"{user.email} is not a member of organization {wanted[:64]!r}."
            choose = user if len(user.memberships) > 1 else None
            return self._render(login, email=user.email, problem=problem, choose_from=choose, status_code=400)
        if wanted is None and len(user.memberships) > 1:
            return self._render(login, email=user.email, choose_from=user)
        organization_id = wanted or (user.memberships[0].organization_id if user.memberships else None)
        code = self._sign_in.issue_code(login, user, organization_id)
        self.stats.sign_ins += 1
        location = with_parameters(login.request.redirect_uri, {"code": code, "state": login.request.state})
        return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})

    def _render(
        self,
        login: PendingLogin,
        *,
        email: str = "",
        problem: str | None = None,
        choose_from: DevUser | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        client = self._client_or_application(login.request.client_id)
        return login_page(
            login_id=login.id,
            client_name=client.name or client.client_id,
            users=self._directory.users(),
            organizations=self._directory.organizations(),
            email=email,
            problem=problem,
            choose_from=choose_from,
            status_code=status_code,
        )

    def _authenticate(self, client_id: str | None, secret: str | None) -> tuple[OAuthClient, bool]:
        if not client_id:
            raise InvalidRequestError("client_id is required")
        client = self._clients.get(client_id)
        if secret is None:
            return client, False
        if not client.secret_matches(secret):
            problem = "this client is public and has no secret" if client.is_public else "wrong client secret"
            raise InvalidClientError(problem)
        return client, True

    async def _grant(
        self, fields: Fields, client: OAuthClient, authenticated: bool, *, resource: str | None
    ) -> IssuedTokens:
        grant_type = fields.get("grant_type")
        if grant_type == "authorization_code":
            code = _required(fields, "code")
            issued = await run_in_threadpool(
                lambda: self._sign_in.exchange_code(
                    client=client,
                    authenticated=authenticated,
                    code=code,
                    code_verifier=fields.get("code_verifier"),
                    redirect_uri=fields.get("redirect_uri"),
                    resource=resource,
                )
            )
            self.stats.authorization_code_grants += 1
            return issued
        if grant_type == "refresh_token":
            refresh_token = _required(fields, "refresh_token")
            issued = await run_in_threadpool(
                lambda: self._sign_in.refresh(
                    client=client,
                    authenticated=authenticated,
                    refresh_token=refresh_token,
                    organization_id=fields.get("organization_id"),
                    resource=resource,
                )
            )
            self.stats.refresh_token_grants += 1
            return issued
        raise UnsupportedGrantTypeError("grant_type must be authorization_code or refresh_token")

    def _client_or_application(self, client_id: str | None) -> OAuthClient:
        try:
            return self._clients.get(client_id or "")
        except InvalidClientError:
            return self._clients.application


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise InvalidRequestError(f"{name} is required")
    return value


def _describe(error: OAuthError) -> str:
    return f"{error.error}: {error.description}"


def _redirect_with_error(redirect_uri: str, state: str | None, error: OAuthError) -> RedirectResponse:
    location = with_parameters(
        redirect_uri, {"error": error.error, "error_description": error.description, "state": state}
    )
    return RedirectResponse(location, status_code=303, headers={"Cache-Control": "no-store"})
