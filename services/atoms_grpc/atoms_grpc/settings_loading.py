"""The one way every Atoms service and client reads its settings from the environment.

A service declares its variables as an `EnvironmentSettings` model (one field per variable,
named by `validation_alias` or the model's `env_prefix`) and calls `read_environment`:
- only the variables the model declares are read, from the mapping given or the process
  environment;
- command-line flags override them (None means "not given");
- a bad value raises `SettingsError` naming the variable (or the flag) it came from, with
  pydantic's reason but never the value, which may be a secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import AliasChoices, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from atoms_grpc.tls_config import TlsConfig, TlsConfigError

SettingsModel = TypeVar("SettingsModel", bound="EnvironmentSettings")


class SettingsError(ValueError):
    """A setting is missing or wrong; the message names it and says how to fix it."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


class EnvironmentSettings(BaseSettings):
    """Base of a settings model read by `read_environment`: immutable, case-sensitive names."""

    model_config = SettingsConfigDict(
        frozen=True, extra="ignore", case_sensitive=True, validate_by_name=True, validate_by_alias=True
    )


def variable_names(model: type[EnvironmentSettings], field_name: str) -> list[str]:
    """The environment variables that may set `field_name`, in order of preference."""
    info = model.model_fields[field_name]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    prefix = model.model_config.get("env_prefix") or ""
    return [f"{prefix}{field_name}".upper()] if prefix else []


def read_environment(
    model: type[SettingsModel],
    environ: Mapping[str, str] | None = None,
    *,
    flags: Mapping[str, Any] | None = None,
) -> SettingsModel:
    """Validate `model` from the variables it declares, then the flags given.

    Args:
        model: the settings model.
        environ: the variables to read; the process environment when None.
        flags: values from command-line flags, by field name; None values are ignored.

    Raises:
        SettingsError: a value is invalid; it names the variable or the flag.
    """
    source = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    for field_name in model.model_fields:
        for name in variable_names(model, field_name):
            if name in source:
                data[field_name] = source[name]
                break
    given = {name: value for name, value in (flags or {}).items() if value is not None}
    data.update(given)
    try:
        # Values are passed by field name: pydantic-settings must not read the environment again.
        return model.model_validate(data)
    except ValidationError as err:
        error = err.errors()[0]
        field_name = str(error["loc"][0]) if error["loc"] else ""
        raise SettingsError(
            _setting_of(model, field_name, source, given), error["msg"].removeprefix("Value error, ")
        ) from None


def tls_from_environment(environ: Mapping[str, str] | None = None) -> TlsConfig | None:
    """The `ATOMS_TLS_*` settings, or None when TLS is not configured.

    Raises:
        SettingsError: the TLS variables are inconsistent or name unreadable files.
    """
    try:
        tls = TlsConfig.from_environment(os.environ if environ is None else environ)
    except TlsConfigError as err:
        raise SettingsError("ATOMS_TLS_*", str(err)) from err
    return tls if tls.enabled else None


def _setting_of(
    model: type[EnvironmentSettings], field_name: str, source: Mapping[str, str], flags: Mapping[str, Any]
) -> str:
    if not field_name or field_name not in model.model_fields:
        return "settings"
    flag = f"--{field_name.replace('_', '-')}"
    if field_name in flags:
        return flag  # a bad value from a flag names the flag: the variable may not even be set
    names = variable_names(model, field_name)
    for name in names:
        if name in source:
            return name
    return names[0] if names else flag
