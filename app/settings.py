"""User settings, declared once with type, default, bounds and a description.

Stored as JSON in the data directory (``settings.json``), written atomically. The command line
may override any of them for one run; the Qt settings page (later) edits the same model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.mcp.config import McpServers
from app.paths import data_dir
from connectors.atomic import write_bytes_atomic


class SettingsError(Exception):
    """The settings file cannot be read; the message says which field and why."""


class Settings(BaseModel):
    """What the user can configure."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    model: str = Field(
        "bundled",
        description=(
            "Which model to run: 'bundled' (ships with the app), a path to a .gguf file, "
            "or 'hf:OWNER/REPO/FILE.gguf[@REVISION]' to download from a model hub. With the "
            "MLX backend also an MLX model folder or 'hf:OWNER/REPO[@REVISION]' (an MLX "
            "repository); a GGUF is converted for MLX once."
        ),
    )
    backend: str = Field(
        "auto",
        description="Model runtime: 'auto' (MLX on Apple Silicon when the mlx extra is "
        "installed, llama.cpp otherwise), 'llama.cpp', 'mlx', or 'openai' (a model server "
        "elsewhere, at base_url).",
    )
    base_url: str | None = Field(
        None,
        description="With the 'openai' backend: the model server's OpenAI API root, e.g. "
        "'http://192.168.1.20:8765/v1' (another `callmemaybe serve`, llama.cpp's server, "
        "vLLM, Ollama). With it, 'model' names the server's model ('bundled': its first).",
    )
    api_key: str | None = Field(
        None,
        exclude=True,  # never written to settings.json: --api-key or CALLMEMAYBE_API_KEY
        description="With the 'openai' backend: the server's API key (sent as a Bearer token).",
    )
    threads: int | None = Field(
        None,
        ge=1,
        le=64,
        description="Decoding threads; empty picks the cores that are idle when the model "
        "loads (at most 4): on a busy 2-core machine 1 thread can be faster than 2.",
    )
    context_tokens: int = Field(
        4096, ge=512, le=32768, description="Context window: prompt plus answer, in tokens."
    )
    max_tokens: int = Field(512, ge=16, le=8192, description="Longest answer, in tokens.")
    granted_folders: list[str] = Field(
        default_factory=list,
        description="The only folders the file tools may read or change; none at first.",
    )
    timezone: str | None = Field(
        None,
        description="Your time zone (IANA name such as 'Europe/Paris'); empty uses the system's.",
    )

    start_at_login: bool = Field(
        False,
        description="Start Call-Me-Maybe when you log in (an XDG autostart file on Linux, a "
        "LaunchAgent on macOS, a Run key value on Windows).",
    )

    mcp_servers: McpServers = Field(
        default_factory=dict,
        validation_alias=AliasChoices("mcp_servers", "mcpServers"),
        description="Model Context Protocol servers whose tools the assistant may use, as "
        "Claude Desktop's 'mcpServers' block writes them: a name, then a command (with args "
        "and env) or a url. Their tools always ask first until you choose otherwise.",
    )

    tool_policies: dict[str, Literal["always", "ask", "never"]] = Field(
        default_factory=dict,
        description="Per tool: 'always' run, 'ask' first (default for changes), or 'never'.",
    )

    policy_without: list[str] = Field(
        default_factory=list,
        description="Passes of the tool-choice policy to switch off, by name (see "
        "app/policy/pipeline.py); for measuring what each is worth.",
    )

    @field_validator("policy_without")
    @classmethod
    def _known_passes(cls, value: list[str]) -> list[str]:
        from app.policy.pipeline import parse_without

        return sorted(parse_without(value))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value or None


def settings_path() -> Path:
    """Where the settings file lives."""
    return data_dir() / "settings.json"


def load_settings() -> Settings:
    """Read the settings, or the defaults when there is no file yet.

    Raises:
        SettingsError: the file exists but is not valid JSON or has an invalid value.
    """
    path = settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    try:
        return Settings.model_validate(json.loads(text))
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path} is not valid JSON ({exc}); fix or delete it") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise SettingsError(f"{path} has invalid settings: {problems}") from exc


def save_settings(settings: Settings) -> None:
    """Write the settings atomically (a crash never leaves half a file)."""
    data = settings.model_dump_json(indent=2).encode("utf-8")
    write_bytes_atomic(settings_path(), data, overwrite=True, private=True)  # 0600: policies
