"""The token chooser on hand-made logits: grammar overrides, fast-forward, loop breaking.

No model: a byte-level tokenizer and logits written by the test, so each case says exactly what
the "model" prefers and checks what the chooser does about it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

import numpy as np
from llguidance import LLMatcher, LLTokenizer, TokenizerWrapper

from backends.call_format import call_format_for
from backends.decoding import CallShapeNudge, TokenChooser
from backends.grammar import build_tool_grammar
from backends.schema import parse_tools

EOS = 256


class _ByteTokenizer:
    def __init__(self) -> None:
        self.tokens = [bytes([i]) for i in range(256)] + [b"\xff<|end|>"]
        self.eos_token_id = EOS
        self.bos_token_id = None
        self.special_token_ids = [EOS]

    def __call__(self, text: str | bytes) -> list[int]:
        return list(text.encode() if isinstance(text, str) else text)


TOKENIZER = LLTokenizer(TokenizerWrapper(_ByteTokenizer()))
TOOLS = parse_tools(
    [
        {
            "name": "set_volume",
            "parameters": {
                "type": "object",
                "properties": {"level": {"type": "integer", "minimum": 0, "maximum": 50}},
                "required": ["level"],
            },
        },
        {
            "name": "count",
            "parameters": {
                "type": "object",
                "properties": {"n": {"type": "integer"}},
                "required": ["n"],
            },
        },
    ]
)


def _chooser(max_repeat: int = 12) -> TokenChooser:
    grammar = build_tool_grammar(TOOLS, call_format_for("qwen2"))
    return TokenChooser(
        LLMatcher(TOKENIZER, grammar, log_level=0), frozenset({EOS}), max_repeat=max_repeat
    )


def _logits(preferred: str | int) -> np.ndarray:
    """Logits that rank ``preferred`` first, then closing braces, then digits, then the rest."""
    logits = np.zeros(257, dtype=np.float32)
    logits[list(b"0123456789")] = 1.0
    logits[ord("}")] = 2.0
    logits[EOS] = 0.5
    logits[preferred if isinstance(preferred, int) else ord(preferred)] = 5.0
    return logits


def _drive(chooser: TokenChooser, script: str, then: str, limit: int = 200) -> tuple[str, int]:
    """Prefer the characters of ``script`` in turn, then ``then`` forever; return the output."""
    out = bytearray()
    overrides = 0
    for _ in range(limit):
        wanted = script[len(out)] if len(out) < len(script) else then
        step = chooser.step(_logits(wanted))
        overrides += step.overridden
        out += bytes(t for t in step.tokens if t != EOS)
        if step.stop:
            return out.decode(), overrides
    raise AssertionError(f"no end after {limit} steps: {out.decode()!r}")


def test_forced_tokens_come_in_one_step() -> None:
    """After '{', the grammar forces '"name": "' and the chooser returns it with the '{'."""
    chooser = _chooser()
    step = chooser.step(_logits("{"))
    assert bytes(step.tokens).decode() == '{"name": "'
    assert step.forced == len('"name": "')


def test_value_above_the_maximum_is_cut_by_forcing_the_end() -> None:
    """A model that wants 120 for a 0-50 field gets 12: the grammar forces the call's end.

    The backend then checks what the model wanted at that forced position (see the bundled-model
    test of the conflict flag); the chooser's part is to end the value validly.
    """
    text, _ = _drive(_chooser(), '{"name": "set_volume", "arguments": {"level": 120', "}")
    assert text == '{"name": "set_volume", "arguments": {"level": 12}}'


def test_value_below_the_minimum_is_overridden() -> None:
    """A model that wants -5 for a 0-50 field is overridden at the minus sign."""
    text, overrides = _drive(_chooser(), '{"name": "set_volume", "arguments": {"level": -5', "}")
    assert '"level": -' not in text
    assert overrides >= 1


def test_digit_loop_is_broken() -> None:
    """A model stuck writing zeros into an unbounded integer still finishes the call."""
    text, _ = _drive(_chooser(max_repeat=12), '{"name": "count", "arguments": {"n": 1', "0")
    digits = text.split('"n": ')[1].rstrip("}")
    assert digits == "1" + "0" * 12


def _list_chooser(bias: float) -> TokenChooser:
    fmt = replace(call_format_for("qwen2"), list_only=True, call_bias=bias)
    grammar = build_tool_grammar(TOOLS, fmt)
    nudge = CallShapeNudge(lambda t: bytes([t]) if t < 256 else b"", more_calls=bias)
    return TokenChooser(LLMatcher(TOKENIZER, grammar, log_level=0), frozenset({EOS}), nudge=nudge)


def _list_logits(preferred: str | None) -> np.ndarray:
    """Logits preferring ``preferred``; otherwise ']' leads ',' by 2."""
    logits = np.zeros(257, dtype=np.float32)
    logits[ord("]")] = 3.0
    logits[ord(",")] = 1.0
    if preferred is not None:
        logits[ord(preferred)] = 5.0
    return logits


def _drive_list(chooser: TokenChooser, script: str) -> str:
    out = bytearray()
    for _ in range(200):
        wanted = script[len(out)] if len(out) < len(script) else None
        step = chooser.step(_list_logits(wanted))
        out += bytes(t for t in step.tokens if t != EOS)
        if step.stop or len(out) > len(script) + 2:
            return out.decode()
    raise AssertionError(out.decode())


CALL = '{"name": "set_volume", "arguments": {"level": 5}}'


def test_without_nudge_the_list_ends_where_the_model_prefers() -> None:
    assert _drive_list(_list_chooser(0.0), "[" + CALL).endswith("}]")


def test_nudge_turns_a_close_call_into_another_call() -> None:
    """With ']' only 2 logits ahead of ',', a bias of 3 makes the model write another call."""
    text = _drive_list(_list_chooser(3.0), "[" + CALL)
    assert text.startswith("[" + CALL + ",")


def test_nudge_never_touches_commas_inside_arguments() -> None:
    """Inside a call's arguments the same bias changes nothing."""
    nudge = CallShapeNudge(lambda t: bytes([t]) if t < 256 else b"", more_calls=3.0)
    nudge.observe(list(b'[{"name": "a", "arguments": {"x": 1'))
    logits = _list_logits("}")
    assert np.array_equal(nudge.adjust(logits), logits)


def test_argument_nudge_leaves_out_an_optional_argument_the_model_barely_wanted() -> None:
    """An optional argument the model prefers by less than the nudge is left out; required
    arguments are untouched because the grammar does not allow closing before them."""
    tools = parse_tools(
        [
            {
                "name": "note",
                "parameters": {
                    "type": "object",
                    "properties": {"title": {"type": "integer"}, "tag": {"type": "integer"}},
                    "required": ["title"],
                },
            }
        ]
    )
    grammar = build_tool_grammar(tools, call_format_for("qwen2"))

    def run(bias: float) -> str:
        nudge = CallShapeNudge(lambda t: bytes([t]) if t < 256 else b"", fewer_arguments=bias)
        chooser = TokenChooser(
            LLMatcher(TOKENIZER, grammar, log_level=0), frozenset({EOS}), nudge=nudge
        )
        out = bytearray()
        script = '{"name": "note", "arguments": {"title": 1'
        for _ in range(100):
            logits = np.zeros(257, dtype=np.float32)
            logits[ord("}")] = 1.0
            logits[ord(",")] = 3.0  # the model leans towards adding "tag"
            logits[list(b"0123456789")] = -1.0
            if len(out) < len(script):
                logits[ord(script[len(out)])] = 5.0
            step = chooser.step(logits)
            out += bytes(t for t in step.tokens if t != EOS)
            if step.stop:
                break
        return out.decode()

    assert '"tag"' in run(0.0)
    assert run(4.0) == '{"name": "note", "arguments": {"title": 1}}'


def _planned_chooser(plan: Callable[[str], float]) -> TokenChooser:
    fmt = replace(call_format_for("qwen2"), list_only=True)
    grammar = build_tool_grammar(TOOLS, fmt)
    nudge = CallShapeNudge(lambda t: bytes([t]) if t < 256 else b"", plan=plan)
    return TokenChooser(LLMatcher(TOKENIZER, grammar, log_level=0), frozenset({EOS}), nudge=nudge)


def test_planner_sees_the_calls_written_so_far_and_adds_a_call() -> None:
    """The planner is asked only where the list may end, with what was written; its bias
    turns the model's ']' into another call."""
    seen: list[str] = []

    def plan(written: str) -> float:
        seen.append(written)
        return 3.0 if written.count('"name"') < 2 else 0.0

    text = _drive_list(_planned_chooser(plan), "[" + CALL + ", " + CALL)
    assert text == "[" + CALL + ", " + CALL + "]"
    assert seen and all(s.startswith("[" + CALL) for s in seen)
    assert not any('"level": ' in s and not s.rstrip().endswith("}") for s in seen)


class _WordTokenizer(_ByteTokenizer):
    """Bytes plus a few multi-byte tokens, tokenized greedily longest first (as BPE would)."""

    WORDS: ClassVar[list[bytes]] = [b'",', b'"}', b"tomorrow", b" 25"]

    def __init__(self) -> None:
        super().__init__()
        self.tokens = [*self.tokens[:EOS], b"\xff<|end|>", *self.WORDS]

    def __call__(self, text: str | bytes) -> list[int]:
        data = text.encode() if isinstance(text, str) else text
        ids: list[int] = []
        while data:
            for i, word in enumerate(self.WORDS):
                if data.startswith(word):
                    ids.append(EOS + 1 + i)
                    data = data[len(word) :]
                    break
            else:
                ids.append(data[0])
                data = data[1:]
        return ids


WORD_TOKENIZER = LLTokenizer(TokenizerWrapper(_WordTokenizer()))
QUOTE_COMMA, TOMORROW, SPACE_25 = EOS + 1, EOS + 3, EOS + 4


def _pieces(token: int) -> bytes:
    return _WordTokenizer().tokens[token] if token != EOS else b""


def test_a_refused_close_and_go_on_closes_the_value() -> None:
    """The model writes "tomorrow then wants '",' (another argument), but the tool has no other
    argument: the string is closed (the allowed start of what the model wanted), not continued
    with the next best token (' 25 ...')."""
    tools = parse_tools(
        [
            {
                "name": "agenda",
                "parameters": {
                    "type": "object",
                    "properties": {"start": {"type": "string"}},
                    "required": ["start"],
                },
            }
        ]
    )
    grammar = build_tool_grammar(tools, call_format_for("qwen2"))

    def run(with_prefix: bool) -> str:
        chooser = TokenChooser(
            LLMatcher(WORD_TOKENIZER, grammar, log_level=0),
            frozenset({EOS}),
            piece=_pieces if with_prefix else None,
            tokenize=WORD_TOKENIZER.tokenize_bytes if with_prefix else None,
        )
        opening = b'{"name": "agenda", "arguments": {"start": "'
        out = b""
        for _ in range(60):
            if len(out) < len(opening):
                wanted = opening[len(out)]
            elif out == opening:
                wanted = TOMORROW
            else:
                wanted = QUOTE_COMMA if out == opening + b"tomorrow" else ord("}")
            logits = np.zeros(EOS + 5, dtype=np.float32)
            logits[SPACE_25] = 2.0  # the next best thing: go on writing the date
            logits[ord("}")] = 1.0
            logits[wanted] = 5.0
            step = chooser.step(logits)
            out += b"".join(_pieces(t) for t in step.tokens)
            if step.stop:
                break
        return out.decode()

    started = '{"name": "agenda", "arguments": {"start": "tomorrow'
    assert run(with_prefix=False).startswith(started + " 25")
    assert run(with_prefix=True) == '{"name": "agenda", "arguments": {"start": "tomorrow"}}'


class _Planner:
    """A value planner that knows the request said 10 and 15."""

    value_bias = 4.5

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, written: str) -> float:
        return 0.0

    def values_left(self, written: str) -> list[str]:
        self.asked.append(written)
        return [v for v in ("10", "15") if f": {v}" not in written]


def _drive_values(planner: _Planner | None) -> str:
    fmt = replace(call_format_for("qwen2"), list_only=True)
    nudge = CallShapeNudge(lambda t: bytes([t]) if t < 256 else b"", plan=planner)
    chooser = TokenChooser(
        LLMatcher(TOKENIZER, build_tool_grammar(TOOLS, fmt), log_level=0),
        frozenset({EOS}),
        nudge=nudge,
    )
    call = '{"name": "count", "arguments": {"n": 10}}'
    script = f"[{call}, {call}]"
    out = ""
    for _ in range(200):
        if script.startswith(out):
            wanted = script[len(out)]
        else:
            wanted = "}" if out.count("{") > out.count("}") else "]"
        step = chooser.step(_logits(wanted))
        out += bytes(t for t in step.tokens if t != EOS).decode()
        if step.stop:
            return out
    raise AssertionError(out)


def test_second_call_writes_the_value_the_first_left_unused() -> None:
    """Asked for 10 and 15, the model repeats 10 in its second call; with a value planner the
    second call writes 15. The first call's value is the model's own."""
    assert _drive_values(None).count('"n": 10') == 2
    planner = _Planner()
    text = _drive_values(planner)
    assert text.startswith('[{"name": "count", "arguments": {"n": 10}}, ')
    assert text.endswith('{"name": "count", "arguments": {"n": 15}}]')
    assert planner.asked and all(not a.endswith("1") for a in planner.asked)


def test_a_refused_comma_after_a_number_ends_the_number() -> None:
    """ "5, 10 and 15": after 5 the model wants a comma, but the tool takes one number. The
    number ends there (the model's best allowed closer), instead of going on with the best
    allowed digit and writing 510."""
    grammar = build_tool_grammar(TOOLS, call_format_for("qwen2"))

    def run(piece: Callable[[int], bytes] | None) -> str:
        chooser = TokenChooser(
            LLMatcher(TOKENIZER, grammar, log_level=0), frozenset({EOS}), piece=piece
        )
        script = '{"name": "count", "arguments": {"n": 5'
        out = ""
        for _ in range(60):
            logits = np.zeros(257, dtype=np.float32)
            logits[ord("}")] = 1.0
            logits[ord("1")] = 3.0  # the next best thing: another digit
            logits[ord(script[len(out)]) if len(out) < len(script) else ord(",")] = 5.0
            if out.endswith("}"):
                logits[ord("}")] = 6.0
            step = chooser.step(logits)
            out += bytes(t for t in step.tokens if t != EOS).decode()
            if step.stop:
                break
        return out

    assert run(None).startswith('{"name": "count", "arguments": {"n": 51')
    assert run(lambda t: bytes([t]) if t < 256 else b"") == (
        '{"name": "count", "arguments": {"n": 5}}'
    )


def test_a_number_of_the_request_is_not_glued_to_the_next() -> None:
    """ "1,5 and 10": after 1 the model prefers 5 (writing 15, nobody's number) by a little
    over ending the number. With the request's numbers guarded, 1 stays 1; 10, which starts
    with 1, can still be written."""

    def run(numbers: tuple[str, ...], script: str, others: tuple[str, ...] = ()) -> str:
        nudge = CallShapeNudge(
            lambda t: bytes([t]) if t < 256 else b"",
            numbers=numbers,
            number_bias=4.0,
            other_numbers=others,
        )
        grammar = build_tool_grammar(TOOLS, call_format_for("qwen2"))
        chooser = TokenChooser(LLMatcher(TOKENIZER, grammar, log_level=0), frozenset({EOS}))
        chooser.nudge = nudge
        out = ""
        for _ in range(60):
            logits = np.zeros(257, dtype=np.float32)
            logits[ord("}")] = 3.0  # ending the number: a close second
            wanted = script[len(out)] if len(out) < len(script) else "}"
            logits[ord(wanted)] = 5.0
            step = chooser.step(logits)
            out += bytes(t for t in step.tokens if t != EOS).decode()
            if step.stop:
                return out
        raise AssertionError(out)

    glued = '{"name": "count", "arguments": {"n": 15'
    assert run((), glued).endswith('"n": 15}}')
    assert run(("1", "5", "10"), glued).endswith('"n": 1}}')
    assert run(("1", "5", "10"), '{"name": "count", "arguments": {"n": 10').endswith('"n": 10}}')
    assert run(("1", "5", "10"), '{"name": "count", "arguments": {"n": 7').endswith('"n": 7}}')
    thousand = '{"name": "count", "arguments": {"n": 1000'
    assert run(("1", "5", "10"), thousand).endswith('"n": 10}}')  # 1000 is nobody's number
    assert run(("1", "5", "10"), thousand, others=("1000",)).endswith('"n": 1000}}')


class _RegionTokenizer(_ByteTokenizer):
    """Bytes plus two word tokens, as a real vocabulary has them."""

    WORDS: ClassVar[list[bytes]] = [b" CA", b" Israel"]

    def __init__(self) -> None:
        super().__init__()
        self.tokens = [*self.tokens, *self.WORDS]


REGION_TOKENIZER = LLTokenizer(TokenizerWrapper(_RegionTokenizer()))
CA, ISRAEL = 257, 258
WEATHER = parse_tools(
    [
        {
            "name": "weather",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        }
    ]
)


def _word_piece(token: int) -> bytes:
    return _RegionTokenizer.WORDS[token - CA] if token >= CA else bytes([token])


def _region(city: str, lead: float, examples: tuple[str, ...]) -> str:
    """The value written when the model prefers `` CA`` after ``city,`` by ``lead`` logits
    over `` Israel``."""
    nudge = CallShapeNudge(_word_piece, examples=examples, example_bias=5.0)
    grammar = build_tool_grammar(WEATHER, call_format_for("qwen2"))
    chooser = TokenChooser(
        LLMatcher(REGION_TOKENIZER, grammar, log_level=0), frozenset({EOS}), nudge=nudge
    )
    script = f'{{"name": "weather", "arguments": {{"location": "{city},'
    out = b""
    for _ in range(80):
        logits = np.zeros(259, dtype=np.float32)
        if len(out) < len(script):
            logits[script.encode()[len(out)]] = 5.0
        elif out.endswith(b","):
            logits[CA], logits[ISRAEL] = 3.0 + lead, 3.0
        else:
            logits[ord('"') if out.count(b'"') % 2 else ord("}")] = 5.0
        step = chooser.step(logits)
        out += b"".join(_word_piece(t) for t in step.tokens if t != EOS)
        if step.stop:
            return out.decode().split('"location": ')[1].rstrip("}")
    raise AssertionError(out)


def test_a_description_example_is_not_copied_unasked() -> None:
    """The tool's example "San Francisco, CA" made the model write "Tel Aviv, CA" (measured:
    " CA" ahead of " Israel" by 4.4 logits). With "CA" among the words nobody said, the
    region it knows wins; a "CA" the model is sure of (7 logits ahead) is kept, and without
    the guard nothing changes."""
    assert _region("Tel Aviv", 4.4, ()) == '"Tel Aviv, CA"'
    assert _region("Tel Aviv", 4.4, ("CA",)) == '"Tel Aviv, Israel"'
    assert _region("San Francisco", 7.0, ("CA",)) == '"San Francisco, CA"'
    assert _region("Tel Aviv", 4.4, ("Canada",)) == '"Tel Aviv, CA"'  # " CA" starts no "Canada"


NOTE = parse_tools(
    [
        {
            "name": "note",
            "parameters": {
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
            },
        }
    ]
)


def _write_note(phrase: str, tokenize: Callable[[bytes], list[int]] | None) -> str:
    """What the chooser writes when the model, inside the note's text, repeats ``phrase``
    for ever (a 0.5B model did: "This is a sample news article for testing purposes." until
    the budget ran out)."""
    nudge = CallShapeNudge(lambda t: bytes([t]) if t < 256 else b"")
    grammar = build_tool_grammar(NOTE, call_format_for("qwen2"))
    chooser = TokenChooser(
        LLMatcher(TOKENIZER, grammar, log_level=0),
        frozenset({EOS}),
        nudge=nudge,
        tokenize=tokenize,
    )
    script = '{"name": "note", "arguments": {"text": "'
    out = ""
    for _ in range(400):
        if len(out) < len(script):
            wanted = script[len(out)]
        elif out.count('"') % 2 == 0:  # the value has ended
            wanted = "}"
        else:
            body = out[len(script) :]
            wanted = phrase[len(body) % len(phrase)]
        step = chooser.step(_logits(wanted))
        out += bytes(t for t in step.tokens if t != EOS).decode()
        if step.stop:
            return out
    return out


def test_a_value_that_loops_is_ended() -> None:
    """A phrase three times in a row ends the value, where it used to run until the budget
    was spent and the call was lost (the repeats are cut before the call runs)."""
    phrase = "Sample text. "
    looped = _write_note(phrase, lambda b: list(b))
    assert looped == '{"name": "note", "arguments": {"text": "' + phrase * 3 + '"}}'
    assert len(_write_note(phrase, None)) > 300  # without a way to write the quote: the loop


def test_a_refused_tool_name_becomes_the_preferred_tool_not_the_next_best() -> None:
    """The model wants file_write, which the grammar left out; its next best is file_read. With
    a preferred tool (the route's choice) the name written is file_delete; without, file_read."""
    tools = parse_tools(
        [
            {"name": name, "parameters": {"type": "object", "properties": {}}}
            for name in ("file_read", "file_delete")
        ]
    )
    grammar = build_tool_grammar(tools, call_format_for("qwen2"))

    def name_written(prefer: str | None) -> str:
        chooser = TokenChooser(
            LLMatcher(TOKENIZER, grammar, log_level=0),
            frozenset({EOS}),
            nudge=CallShapeNudge(lambda t: bytes([t]) if t < EOS else b""),
            piece=lambda t: bytes([t]) if t < EOS else b"",
            tokenize=TOKENIZER.tokenize_bytes,
            prefer_name=prefer,
        )
        wanted = b'{"name": "file_write"'
        out = b""
        for _ in range(40):
            logits = np.zeros(257, dtype=np.float32)
            logits[ord("r")] = 2.0  # the model's next best: file_read
            logits[wanted[len(out)] if len(out) < len(wanted) else ord("}")] = 5.0
            step = chooser.step(logits)
            out += bytes(t for t in step.tokens if t != EOS)
            if step.stop:
                break
        return out.decode().split('"name": "')[1].split('"')[0]

    assert name_written(None) == "file_read"
    assert name_written("file_delete") == "file_delete"
    assert name_written("file_rename") == "file_read"  # not offered: the model's next best
