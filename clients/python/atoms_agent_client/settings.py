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

from pydantic import Field, SecretStr

from atoms_agent_client.agent_grpc_client import DEFAULT_AGENT_ADDR, DEFAULT_TIMEOUT_S
from atoms_agent_client.agent_http_client import DEFAULT_AGENT_HTTP_URL
from atoms_grpc.settings_loading import EnvironmentSettings, read_environment


class AgentClientSettings(EnvironmentSettings):
    """The client's view of the environment."""

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
        SettingsError: a variable has an invalid value.
    """
    return read_environment(AgentClientSettings, environ)
