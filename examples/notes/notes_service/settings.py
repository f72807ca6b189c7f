"""NotesSettings: the notes service's configuration, read once from the environment."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from atoms_grpc import GrpcServiceConfig
from atoms_grpc.settings_loading import EnvironmentSettings


class NotesSettings(EnvironmentSettings):
    """`ATOMS_NOTES_*` variables, plus the addresses every Atoms service shares.

    Read with the kit's `read_environment(NotesSettings, flags=...)`: a bad value is a
    `SettingsError` naming its variable or flag.
    """

    model_config = SettingsConfigDict(env_prefix="ATOMS_NOTES_")

    host: str = "127.0.0.1"  # loopback by default; deployments override
    # The audience the service accepts: tokens whose `aud` names another resource are refused.
    audience: str = Field(default="urn:atoms:notes", min_length=1, pattern=r"^\S+$")
    port: int = Field(default=50061, ge=0, le=65535)
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///var/notes/notes.db")  # may hold a password
    auth_address: str = Field(default="127.0.0.1:50051", validation_alias="ATOMS_AUTH_ADDR")
    agent_address: str = Field(default="127.0.0.1:50052", validation_alias="ATOMS_AGENT_ADDR")
    agent_timeout_s: float = Field(default=10.0, gt=0, le=60)
    shutdown_grace_s: float = Field(default=10.0, ge=0)
    log_level: str = Field(default="INFO", validation_alias="ATOMS_LOG_LEVEL")

    def grpc_service_config(self) -> GrpcServiceConfig:
        """The kit's part of the configuration."""
        return GrpcServiceConfig(
            name="notes",
            audience=self.audience,
            host=self.host,
            port=self.port,
            auth_address=self.auth_address,
            metrics_host=self.host,
            metrics_port=self.metrics_port,
            shutdown_grace_s=self.shutdown_grace_s,
        )
