"""Rendering chat templates the way Hugging Face transformers does.

A model only follows the prompt layout it was trained on, so a template must render here
exactly as it does in transformers: same whitespace control, same ``tojson``, same helpers.
"""

from __future__ import annotations

import datetime as dt
import json
from types import MappingProxyType

import pytest

from backends.chat_template import ChatTemplate, ChatTemplateError

QWEN_LIKE = """\
{% if tools %}
<|im_start|>system
# Tools
{% for tool in tools %}
{{ tool | tojson }}
{% endfor %}
<|im_end|>
{% endif %}
{% for message in messages %}
    {% if message.role not in ('system', 'user', 'assistant') %}
        {{ raise_exception('Unknown role: ' + message.role) }}
    {% endif %}
<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endfor %}
{% if add_generation_prompt %}
<|im_start|>assistant
{% endif %}
"""
HELLO = [{"role": "user", "content": "Hi"}]


def test_trim_and_lstrip_blocks() -> None:
    """Block tags leave no newline after them and no indentation before them."""
    out = ChatTemplate(QWEN_LIKE).render(
        [{"role": "system", "content": "Be brief."}, *HELLO], add_generation_prompt=True
    )
    assert out == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_without_generation_prompt() -> None:
    """``add_generation_prompt=False`` leaves the assistant turn unopened."""
    out = ChatTemplate(QWEN_LIKE).render(HELLO, add_generation_prompt=False)
    assert out == "<|im_start|>user\nHi<|im_end|>\n"


def test_tools_render_with_tojson_keeping_unicode_and_key_order() -> None:
    """Tools print as transformers prints them: non-ASCII kept, keys in the given order.

    Jinja's own ``tojson`` would sort keys and escape ``<``, ``>``, ``&`` and ``'``; a prompt
    rendered that way differs from the one the model was trained on.
    """
    tool = {
        "type": "function",
        "function": {
            "name": "météo",
            "description": "Temps à <Paris> & 'ailleurs'",
            "parameters": {"z_last": {"type": "string"}, "a_first": {"type": "integer"}},
        },
    }
    out = ChatTemplate(QWEN_LIKE).render(HELLO, tools=[tool], add_generation_prompt=False)
    line = json.dumps(tool, ensure_ascii=False)
    assert out.startswith(f"<|im_start|>system\n# Tools\n{line}\n<|im_end|>\n")
    assert "météo" in out
    assert out.index("z_last") < out.index("a_first")


def test_tojson_indent() -> None:
    """``tojson(indent=2)`` pretty-prints like ``json.dumps``."""
    value = {"b": [1, 2], "a": "ü"}
    out = ChatTemplate("{{ messages[0] | tojson(indent=2) }}").render([value])
    assert out == json.dumps(value, indent=2, ensure_ascii=False)


def test_no_tools_means_tools_is_none() -> None:
    """An empty tool list is ``None`` to the template, so ``{% if tools %}`` sections vanish."""
    template = ChatTemplate("{{ tools is none }}")
    assert template.render(HELLO, tools=[]) == "True"
    assert template.render(HELLO) == "True"
    assert template.render(HELLO, tools=[{"type": "function"}]) == "False"


def test_special_tokens_and_mappings() -> None:
    """bos/eos tokens are available, and any mapping works as a message."""
    template = ChatTemplate(
        "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}{{ eos_token }}",
        bos_token="<s>",
        eos_token="</s>",
    )
    assert template.render([MappingProxyType({"role": "user", "content": "x"})]) == "<s>x</s>"


def test_loop_controls_and_strftime_now() -> None:
    """``{% break %}`` and ``strftime_now`` (used by Llama 3 templates) work."""
    template = ChatTemplate(
        "{% for m in messages %}{% if loop.index > 1 %}{% break %}{% endif %}"
        "{{ m.content }}{% endfor %}|{{ strftime_now('%Y') }}"
    )
    out = template.render([{"content": "a"}, {"content": "b"}])
    first, year = out.split("|")
    assert first == "a"
    assert year in {str(dt.datetime.now().year), str(dt.datetime.now().year - 1)}


def test_raise_exception_becomes_chat_template_error() -> None:
    """A template refusing the messages raises ChatTemplateError with its own message."""
    with pytest.raises(ChatTemplateError, match="Unknown role: tool"):
        ChatTemplate(QWEN_LIKE).render([{"role": "tool", "content": "42"}])


@pytest.mark.parametrize("source", ["", "   \n\t"])
def test_empty_template_is_an_error(source: str) -> None:
    """A model without a template cannot be prompted correctly; say so."""
    with pytest.raises(ChatTemplateError, match="no chat template"):
        ChatTemplate(source)


@pytest.mark.parametrize("source", ["{% if %}", "{% for m in messages %}{{ m }}", "{{ a b }}"])
def test_syntax_error_is_an_error(source: str) -> None:
    """A template that does not parse is reported when loaded, not at the first request."""
    with pytest.raises(ChatTemplateError, match="does not parse"):
        ChatTemplate(source)


def test_runtime_errors_are_chat_template_errors() -> None:
    """Undefined lookups and sandbox violations surface as ChatTemplateError."""
    with pytest.raises(ChatTemplateError, match="failed to render"):
        ChatTemplate("{{ missing.attribute }}").render(HELLO)
    with pytest.raises(ChatTemplateError, match="failed to render"):
        ChatTemplate("{% set _ = messages.append(1) %}").render(HELLO)


def test_messages_are_not_modified() -> None:
    """Rendering leaves the caller's messages untouched."""
    messages = [{"role": "user", "content": "Hi"}]
    ChatTemplate(QWEN_LIKE).render(messages)
    assert messages == [{"role": "user", "content": "Hi"}]


def test_tojson_of_a_missing_field_is_a_chat_template_error() -> None:
    """A message missing a field the template serialises is reported as a template error."""
    template = ChatTemplate("{% for m in messages %}{{ m.tool_calls | tojson }}{% endfor %}")
    with pytest.raises(ChatTemplateError):
        template.render(HELLO)
