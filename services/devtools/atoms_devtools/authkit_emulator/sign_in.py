"""SignIn: from a submitted login page to a code, from a code to tokens, refresh, and logout.

Rules (each refusal is the OAuth / WorkOS error a client expects):
- a code lives 60 s, is bound to its client, redirect URI, PKCE challenge and resource, and
  works once; a second use revokes the session the first use started (RFC 6749 4.1.2);
- a `code_verifier` is required exactly when the authorize request carried a challenge (S256);
- refresh tokens rotate: each works once; after logout none of the session's work;
- access tokens are AuthKit-shaped, 5 minutes by default; an OAuth (MCP client) token carries
  `aud` = the `resource` it was asked for and `client_id`.

All methods are synchronous and serialized by one lock: the routes call them in a worker thread
(minting reads the key file).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from atoms_devtools.authkit_emulator.client_registry import ClientRegistry, OAuthClient
from atoms_devtools.authkit_emulator.dev_users import DevUser
from atoms_devtools.authkit_emulator.directory import DevDirectory
from atoms_devtools.authkit_emulator.emulator_defaults import DEFAULT_ACCESS_TOKEN_TTL_S
from atoms_devtools.authkit_emulator.key_store import EmulatorKeyStore
from atoms_devtools.authkit_emulator.oauth_errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidTargetError,
)
from atoms_devtools.authkit_emulator.sign_in_state import (
    AuthorizationRequest,
    CodeGrant,
    PendingLogin,
    RefreshRecord,
    Session,
    SignInState,
    digest,
)
from atoms_devtools.authkit_emulator.token_minting import mint_token, new_ulid

logger = logging.getLogger(__name__)

CODE_TTL_S = 60.0
LOGIN_PAGE_TTL_S = 600.0


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """What a successful code exchange or refresh hands out."""

    access_token: str
    refresh_token: str
    expires_in: int
    user: DevUser
    session: Session


class SignIn:
    """The emulator's sign-in flows over its in-memory state."""

    def __init__(
        self,
        *,
        keys: EmulatorKeyStore,
        directory: DevDirectory,
        clients: ClientRegistry,
        issuer: str,
        access_token_ttl_s: int = DEFAULT_ACCESS_TOKEN_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.clients = clients
        self._keys = keys
        self._issuer = issuer
        self._ttl_s = access_token_ttl_s
        self._clock = clock
        self._state = SignInState()
        self._lock = threading.Lock()

    def begin(self, request: AuthorizationRequest) -> PendingLogin:
        """Remember a checked authorize request while the person fills in the login page."""
        login = PendingLogin(
            id=secrets.token_urlsafe(24), request=request, expires_at=self._clock() + LOGIN_PAGE_TTL_S
        )
        with self._lock:
            self._state.pending.put(login.id, login)
        return login

    def pending(self, login_id: str) -> PendingLogin | None:
        """Return the pending login, or None when it is unknown or older than 10 minutes."""
        with self._lock:
            login = self._state.pending.get(login_id)
        if login is None or self._clock() >= login.expires_at:
            return None
        return login

    def issue_code(self, login: PendingLogin, user: DevUser, organization_id: str | None) -> str:
        """Finish a pending login for `user`: return a fresh code bound to the request.

        The caller has checked that the user belongs to `organization_id`.
        """
        code = secrets.token_urlsafe(32)
        grant = CodeGrant(
            request=login.request,
            user_id=user.id,
            organization_id=organization_id,
            expires_at=self._clock() + CODE_TTL_S,
        )
        with self._lock:
            self._state.pending.pop(login.id)
            self._state.codes.put(digest(code), grant)
        logger.info("%s signed in for client %s", user.id, login.request.client_id)
        return code

    def cancel(self, login_id: str) -> None:
        """Forget a pending login (the person pressed Cancel)."""
        with self._lock:
            self._state.pending.pop(login_id)

    def exchange_code(
        self,
        *,
        client: OAuthClient,
        authenticated: bool,
        code: str,
        code_verifier: str | None,
        redirect_uri: str | None,
        resource: str | None,
    ) -> IssuedTokens:
        """Redeem an authorization code.

        Args:
            client: the client asking (already looked up).
            authenticated: whether it proved its secret.
            code: the code from the redirect.
            code_verifier: the PKCE verifier, if sent.
            redirect_uri: the redirect URI, if sent; it must be the authorize request's.
            resource: the RFC 8707 resource, if sent; it must be the authorize request's.

        Raises:
            InvalidGrantError: the code is unknown, expired, used, or bound to something else,
                or the verifier is missing or wrong.
            InvalidClientError: a confidential exchange (no PKCE) without the client secret.
            InvalidTargetError: `resource` differs from the authorize request's.
        """
        with self._lock:
            grant = self._state.codes.get(digest(code))
            _check_code(grant, self._state, now=self._clock())
            assert grant is not None
            request = grant.request
            if request.client_id != client.client_id:
                raise InvalidGrantError("the authorization code was issued to another client")
            if redirect_uri is not None and redirect_uri != request.redirect_uri:
                raise InvalidGrantError("redirect_uri differs from the one of the authorization request")
            if request.flow == "oauth" and redirect_uri is None:
                raise InvalidGrantError("redirect_uri is required: the authorization request had one")
            _check_pkce(request.code_challenge, code_verifier, authenticated=authenticated)
            if resource is not None and resource != request.resource:
                raise InvalidTargetError("resource differs from the one of the authorization request")
            user = self._user(grant.user_id)
            session = self._open_session(grant, public_client=not authenticated)
            grant.session_id = session.id
            return self._issue(session, user)

    def refresh(
        self,
        *,
        client: OAuthClient,
        authenticated: bool,
        refresh_token: str,
        organization_id: str | None,
        resource: str | None,
    ) -> IssuedTokens:
        """Exchange a refresh token for new tokens; the old refresh token stops working.

        Args:
            organization_id: switch the session to this organization (WorkOS), if the user
                belongs to it.

        Raises:
            InvalidGrantError: the token is unknown, rotated, ended, another client's, or the
                user is not in `organization_id`.
            InvalidClientError: the session began with the client secret and it is missing now.
            InvalidTargetError: `resource` differs from the session's.
        """
        with self._lock:
            session = self._session_of(refresh_token)
            if session.client_id != client.client_id:
                raise InvalidGrantError("the refresh token was issued to another client")
            if not authenticated and not session.public_client:
                raise InvalidClientError("client_secret is required for this session")
            if resource is not None and resource != session.resource:
                raise InvalidTargetError("resource differs from the one the session was granted for")
            user = self._user(session.user_id)
            if organization_id is not None and organization_id != session.organization_id:
                if user.membership(organization_id) is None:
                    raise InvalidGrantError("the user is not a member of that organization")
                session.organization_id = organization_id
            self._state.refresh_tokens.put(session.refresh_digest, RefreshRecord(session.id, rotated=True))
            return self._issue(session, user)

    def end_session(self, session_id: str) -> Session | None:
        """End a session: its refresh tokens stop working. Return it, or None if unknown."""
        with self._lock:
            session = self._state.sessions.get(session_id)
            if session is not None and not session.ended:
                session.ended = True
                logger.info("session %s of %s ended", session.id, session.user_id)
            return session

    def _session_of(self, refresh_token: str) -> Session:
        record = self._state.refresh_tokens.get(digest(refresh_token))
        session = None if record is None else self._state.sessions.get(record.session_id)
        if record is None or session is None:
            raise InvalidGrantError("the refresh token is unknown")
        if session.ended:
            raise InvalidGrantError("the session has ended (signed out or revoked)")
        if record.rotated:
            raise InvalidGrantError("the refresh token was already used: refresh tokens rotate on use")
        return session

    def _user(self, user_id: str) -> DevUser:
        user = self.directory.user(user_id)
        if user is None:
            raise InvalidGrantError("the signed-in user no longer exists")
        return user

    def _open_session(self, grant: CodeGrant, *, public_client: bool) -> Session:
        request = grant.request
        session = Session(
            id=f"session_{new_ulid(self._clock())}",
            user_id=grant.user_id,
            organization_id=grant.organization_id,
            client_id=request.client_id,
            flow=request.flow,
            resource=request.resource,
            scope=request.scope,
            public_client=public_client,
            signed_in_at=self._clock(),
        )
        self._state.sessions.put(session.id, session)
        return session

    def _issue(self, session: Session, user: DevUser) -> IssuedTokens:
        refresh_token = secrets.token_urlsafe(32)
        session.refresh_digest = digest(refresh_token)
        self._state.refresh_tokens.put(session.refresh_digest, RefreshRecord(session.id))
        membership = None if session.organization_id is None else user.membership(session.organization_id)
        oauth = session.flow == "oauth"
        access_token = mint_token(
            self._keys,
            issuer=self._issuer,
            subject=user.id,
            org_id=session.organization_id,
            role=membership.role if membership else "member",
            permissions=membership.permissions if membership else (),
            scopes=tuple((session.scope or "").split()) if oauth else (),
            ttl_s=self._ttl_s,
            audience=session.resource if oauth else None,
            client_id=session.client_id if oauth else None,
            session_id=session.id,
            now=self._clock(),
        )
        return IssuedTokens(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=self._ttl_s,
            user=user,
            session=session,
        )


def _check_code(grant: CodeGrant | None, state: SignInState, *, now: float) -> None:
    if grant is None:
        raise InvalidGrantError("the authorization code is unknown")
    if grant.session_id is not None:
        session = state.sessions.get(grant.session_id)
        if session is not None:
            session.ended = True
        logger.warning("authorization code reused: session %s revoked", grant.session_id)
        raise InvalidGrantError("the authorization code was already used; its session is revoked")
    if now >= grant.expires_at:
        raise InvalidGrantError(f"the authorization code expired (codes live {CODE_TTL_S:.0f} s)")


def _check_pkce(challenge: str | None, verifier: str | None, *, authenticated: bool) -> None:
    if challenge is None:
        if verifier is not None:
            raise InvalidGrantError("code_verifier sent, but the authorization request had no code_challenge")
        if not authenticated:
            raise InvalidClientError("client_secret is required (the authorization request used no PKCE)")
        return
    if verifier is None:
        raise InvalidGrantError("code_verifier is required: the authorization request had a code_challenge")
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    if not hmac.compare_digest(computed.rstrip(b"=").decode("ascii"), challenge):
        raise InvalidGrantError("code_verifier does not match the code_challenge")
