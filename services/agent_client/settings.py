"""AgentClientSettings: where the command-line client finds the agent and the user's token.

The only reader of the environment for the client; flags override it.

| setting          | variable               | default               |
|------------------|------------------------|-----------------------|
| `agent_address`  | ATOMS_AGENT_ADDR       | 127.0.0.1:50052       |
| `agent_http_url` | ATOMS_AGENT_HTTP_URL   | http://127.0.0.1:3284 |
| `token`          | ATOMS_TOKEN            | none                  |
| `timeout_s`      | ATOMS_AGENT_TIMEOUT_S  | 60                    |
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.agent_client.agent_grpc_client import DEFAULT_AGENT_ADDR, DEFAULT_TIMEOUT_S
from services.agent_client.agent_http_client import DEFAULT_AGENT_HTTP_URL


class ClientSettingsError(ValueError):
    """A setting is wrong; the message names the variable."""


class AgentClientSettings(BaseSettings):
    """The client's view of the environment."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", case_sensitive=True)

    agent_address: str = Field(default=DEFAULT_AGENT_ADDR, min_length=1, validation_alias="ATOMS_AGENT_ADDR")
    agent_http_url: str = Field(
        default=DEFAULT_AGENT_HTTP_URL, min_length=1, validation_alias="ATOMS_AGENT_HTTP_URL"
    )
    # SecretStr: the token never shows in a repr, a traceback or a log line.
    token: SecretStr | None = Field(default=None, validation_alias="ATOMS_TOKEN")
    timeout_s: float = Field(
        default=DEFAULT_TIMEOUT_S, gt=0, le=3600, validation_alias="ATOMS_AGENT_TIMEOUT_S"
    )


def load_client_settings(environ: Mapping[str, str] | None = None) -> AgentClientSettings:
    """Read the settings from `environ` (the process environment when None).

    Raises:
        ClientSettingsError: a variable has an invalid value.
    """
    try:
        if environ is None:
            return AgentClientSettings()
        return AgentClientSettings.model_validate(dict(environ))
    except ValidationError as err:
        names = ", ".join(str(error["loc"][0]) for error in err.errors() if error["loc"])
        # from None: pydantic's message quotes the input, which for ATOMS_TOKEN is the token.
        raise ClientSettingsError(f"invalid value for {names or 'a setting'}") from None
