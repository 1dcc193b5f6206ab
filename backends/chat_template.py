"""Rendering a model's own chat template, read from its GGUF metadata.

Models are trained on one exact prompt layout; getting a single newline wrong costs accuracy.
So the prompt is rendered with the template the model ships (``tokenizer.chat_template``), in a
jinja2 environment that behaves like Hugging Face transformers' (``trim_blocks``,
``lstrip_blocks``, a ``tojson`` that keeps non-ASCII text and key order, ``raise_exception``,
``strftime_now``), with tools passed in OpenAI's function format.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from backends.errors import BackendError


class ChatTemplateError(BackendError):
    """The model's chat template is missing or failed to render these messages."""


def _tojson(value: Any, indent: int | None = None, ensure_ascii: bool = False) -> str:
    """HF transformers' ``tojson``: unicode kept, key order kept, ``", "``/``": "`` separators."""
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, sort_keys=False)


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return _dt.datetime.now().strftime(fmt)


@lru_cache(maxsize=8)
def _compile(source: str) -> jinja2.Template:
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.loopcontrols"],
        undefined=jinja2.Undefined,
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise ChatTemplateError(f"the model's chat template does not parse: {exc}") from exc


class ChatTemplate:
    """A compiled chat template plus the special tokens it may refer to.

    Args:
        source: the jinja2 template text, as stored in ``tokenizer.chat_template``.
        bos_token: text of the beginning-of-sequence token (some templates print it).
        eos_token: text of the end-of-sequence token.
    """

    def __init__(self, source: str, *, bos_token: str = "", eos_token: str = "") -> None:
        if not source or not source.strip():
            raise ChatTemplateError("the model has no chat template")
        self.source = source
        self.bos_token = bos_token
        self.eos_token = eos_token
        self._template = _compile(source)

    def render(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        add_generation_prompt: bool = True,
    ) -> str:
        """Render messages (and tools, in OpenAI function format) to the prompt text.

        Raises:
            ChatTemplateError: the template rejected the messages.
        """
        try:
            return self._template.render(
                messages=[dict(m) for m in messages],
                tools=[dict(t) for t in tools] if tools else None,
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except Exception as exc:  # a template can raise anything: TypeError, ZeroDivisionError...
            raise ChatTemplateError(f"the chat template failed to render: {exc}") from exc
