"""The runtime-agnostic half of a decode loop: choosing tokens under the grammar.

Every backend owns its forward pass; this module owns what happens between two forward passes,
so llama.cpp and MLX constrain decoding identically:

* Greedy fast path: the model's top token is checked against the grammar with
  ``try_consume_tokens`` (well under a microsecond). Only when the grammar refuses it is the
  full token mask computed and applied, and that moment is recorded as an override, which later
  becomes a conflict flag if it changed a value in a call.
* Fast-forward: after each token, the tokens the grammar forces (``{"name": "``, the rest of a
  unique tool name, ``", "arguments": {``) are returned so the backend decodes them in one batch
  instead of one forward pass each.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import llguidance
import numpy as np
from llguidance.numpy import allocate_token_bitmask, fill_next_token_bitmask

from backends.call_format import CallFormat
from backends.errors import BackendError
from backends.grammar import build_tool_grammar, json_schema_grammar, text_only_grammar

if TYPE_CHECKING:
    from backends.base import GenerateOptions
    from backends.schema import ToolSpec


@dataclass
class Step:
    """The outcome of one decoding step.

    Attributes:
        tokens: the chosen token followed by any tokens the grammar forces after it.
        overridden: the grammar refused the model's top token at this step.
        wanted: the refused token's id (meaningful only when ``overridden``).
        stop: generation is finished once these tokens are emitted.
        forced: how many of ``tokens`` were forced by the grammar.
    """

    tokens: list[int]
    overridden: bool = False
    wanted: int = -1
    stop: bool = False
    forced: int = 0


class ValuePlanner(Protocol):
    """A call planner (``GenerateOptions.more_calls``) that also knows the request's values.

    ``values_left`` gets the output written before the value now being decoded and returns the
    values (as JSON would write them: ``15``, ``New York``) that no call has used yet;
    ``value_bias`` is the logits added to a candidate that writes one of them.
    """

    value_bias: float

    def __call__(self, written: str) -> float: ...

    def values_left(self, written: str) -> Sequence[str]: ...


class CallShapeNudge:
    """Nudges two decisions a 0.5B model gets wrong in one direction: how many calls, how many
    arguments.

    Measured on the bundled model: it writes exactly one call even when a request asks for
    several and the grammar allows a list, and it fills optional arguments nobody asked for
    (a made-up ``"location"``, ``"algorithm": "binary"``), which is both wrong and slow. So at
    the points where the model may end a call's arguments or the list of calls, the candidate
    tokens that do so are examined: ``more_calls`` is added to those that put a comma between
    calls (``},``, ``}}, {``), ``fewer_arguments`` to those that close the arguments object
    (``}``, ``"}}``). The grammar still decides what is allowed (a close before the required
    arguments stays impossible); the nudge only moves the model's threshold. The JSON nesting
    of what was written is tracked, so commas and braces inside values are never touched.

    A planner that also has ``values_left(written) -> list[str]`` and ``value_bias`` (see
    :class:`ValuePlanner`) steers the values of the second and later calls: where such a call
    starts or continues a top-level argument value, candidates that write one of the values the
    planner says are still unused get ``value_bias``. Asked for two things, the model otherwise
    often repeats its first call's value (``"sample_size": 50`` twice for "50 and 150").

    Args:
        piece: the bytes of a token id.
        more_calls: logits added to "another call" candidates (list of calls only).
        plan: logits added to "another call" candidates on top of ``more_calls``, computed
            from the output written so far (see ``GenerateOptions.more_calls``).
        fewer_arguments: logits added to "end the arguments" candidates.
        top_k: how many of the best candidates are examined at each step.
        numbers: the request's numbers as JSON writes them; ``number_bias`` is taken from a
            digit that would turn one of them into a number that is none of them nor of
            ``other_numbers`` (see ``GenerateOptions.numbers``).
        examples: words (and word starts) a string value should not copy from the tools'
            descriptions; ``example_bias`` is taken from a token that opens a new word with
            one of them (see ``GenerateOptions.unsaid_examples``).
    """

    def __init__(
        self,
        piece: Callable[[int], bytes],
        *,
        more_calls: float = 0.0,
        fewer_arguments: float = 0.0,
        plan: Callable[[str], float] | None = None,
        top_k: int = 12,
        numbers: Sequence[str] = (),
        number_bias: float = 0.0,
        other_numbers: Sequence[str] = (),
        examples: Sequence[str] = (),
        example_bias: float = 0.0,
    ) -> None:
        self.piece = piece
        self.examples = frozenset(e.casefold() for e in examples if e)
        self.example_bias = example_bias
        self.numbers = frozenset(numbers)
        known = (*numbers, *other_numbers)
        self._number_starts = frozenset(n[:i] for n in known for i in range(1, len(n) + 1))
        self.number_bias = number_bias
        self.more_calls = more_calls
        self.plan = plan
        self._written = bytearray()
        self.fewer_arguments = fewer_arguments
        self.top_k = top_k
        self._state = (0, False, False)  # depth, inside a string, after a backslash
        self._list: bool | None = None  # whether the calls came as a JSON array
        self._call: bool | None = None  # whether the output is a call (by its first byte)
        self._value = _ValueTracker()
        self._left: list[str] | None = None  # the planner's unused values, for this value

    def observe(self, tokens: list[int]) -> None:
        """Follow the JSON nesting of the emitted tokens."""
        for token in tokens:
            piece = self.piece(token)
            self._written += piece
            for byte in piece:
                if self._call is None and not bytes([byte]).isspace():
                    self._call = byte in b"{[`"  # the grammar starts no text answer so
                if self._list is None and byte in (0x7B, 0x5B):  # the first { or [
                    self._list = byte == 0x5B
                before = self._state
                self._state = _json_step(byte, *self._state)
                at_arguments = before[0] == (3 if self._list else 2)
                self._value.feed(byte, at_arguments, before[1], self._state[1])
        if not self._value.active:
            self._left = None

    def name_written(self) -> str | None:
        """The tool name written so far, while the call's ``"name"`` value is being written
        (``None`` elsewhere, an argument called ``name`` included)."""
        depth, in_string, _ = self._state
        if not in_string or self._list is None or depth != (2 if self._list else 1):
            return None
        found = _NAME_VALUE.search(self._written[-200:].decode("utf-8", "replace"))
        return found.group(1) if found else None

    def looping(self) -> bool:
        """Whether the top-level string value being written ends with one phrase three times
        over ("This is a sample news article for testing purposes." until the budget ran
        out, and the call with it)."""
        if not self._value.active or self._value.kind != "str":
            return False
        if not self._call:
            return False  # a text answer, not a call
        return _repeats(bytes(self._value.text))

    def _effect(self, token: int, args_depth: int) -> tuple[bool, bool]:
        """Whether ``token`` would end the arguments, and put a comma between calls."""
        depth, in_string, escape = self._state
        closes = False
        for byte in self.piece(token):
            if byte == 0x2C and depth == 1 and not in_string and self._list:
                return closes, True
            depth, in_string, escape = _json_step(byte, depth, in_string, escape)
            closes = closes or depth < args_depth
        return closes, False

    def adjust(self, logits: np.ndarray) -> np.ndarray:
        """``logits`` with the nudges added to the best candidates."""
        if self._list is None:
            return logits
        args_depth = 3 if self._list else 2
        if not 1 <= self._state[0] <= args_depth:
            return logits  # not started, or inside a nested value
        top = np.argpartition(logits, -self.top_k)[-self.top_k :]
        adjusted = logits
        planned: float | None = None
        after_call = self._written.rstrip()[-1:] == b"}"  # where the list may go on or end
        for token in (int(t) for t in top):
            closes, another = self._effect(token, args_depth)
            another = another and after_call
            if another and planned is None:
                planned = self.more_calls + (
                    self.plan(self._written.decode("utf-8", "replace")) if self.plan else 0.0
                )
            bonus = (self.fewer_arguments if closes else 0.0) + (planned if another else 0.0)
            if bonus:
                if adjusted is logits:
                    adjusted = logits.copy()
                adjusted[token] += bonus
        if self._value.active:
            adjusted = self._steer_value(adjusted, top)
            adjusted = self._keep_number(adjusted, top)
            adjusted = self._avoid_examples(adjusted, top)
        return adjusted

    def _avoid_examples(self, logits: np.ndarray, top: np.ndarray) -> np.ndarray:
        """``logits`` with ``example_bias`` taken from candidates that open a new word of the
        value with exactly one of ``examples`` (`` CA`` after ``"Tel Aviv,``). The caller
        lists the starts it means (a tokenizer may write "Marriage" as "Mar" + "riage"); a
        piece whose word merely begins like one is not touched."""
        if not self.example_bias or not self.examples or self._value.kind == "num":
            return logits
        before = self._value.text.decode("utf-8", "replace")
        adjusted = logits
        for token in (int(t) for t in top):
            written = self._value.extended(self.piece(token))
            if written is None:
                continue
            new = written[0][len(before) :]
            if before[-1:].isalnum() and new[:1].isalnum():
                continue  # goes on with a word: only a new word can be a copied example
            word = _WORD_START.match(new)
            if word is None:
                continue
            if word.group(1).casefold() in self.examples:
                if adjusted is logits:
                    adjusted = logits.copy()
                adjusted[token] -= self.example_bias
        return adjusted

    def _keep_number(self, logits: np.ndarray, top: np.ndarray) -> np.ndarray:
        """``logits`` with ``number_bias`` taken from digits that would turn a number of the
        request into one that is not (``5`` into ``51`` for "5,10 and 15")."""
        if not self.number_bias or self._value.kind != "num":
            return logits
        if self._value.text.decode("ascii", "replace") not in self.numbers:
            return logits
        adjusted = logits
        for token in (int(t) for t in top):
            written = self._value.extended(self.piece(token))
            if written is None or written[1] or written[0] in self._number_starts:
                continue  # ends the number, or still writes one of the request's
            if adjusted is logits:
                adjusted = logits.copy()
            adjusted[token] -= self.number_bias
        return adjusted

    def _steer_value(self, logits: np.ndarray, top: np.ndarray) -> np.ndarray:
        """``logits`` with the planner's value bias on candidates that write an unused value."""
        values_left = getattr(self.plan, "values_left", None)
        if values_left is None or self._written.count(b'"arguments"') < 2:
            return logits  # no planner, or the first call: the model's own values
        if self._left is None:
            self._left = [v.casefold() for v in values_left(self._value.before(self._written))]
        if not self._left:
            return logits
        adjusted = logits
        bias = float(getattr(self.plan, "value_bias", 0.0))
        for token in (int(t) for t in top):
            written = self._value.extended(self.piece(token))
            if written is None:
                continue
            text, ended = written
            text = text.casefold()
            if any(v == text if ended else v.startswith(text) for v in self._left):
                if adjusted is logits:
                    adjusted = logits.copy()
                adjusted[token] += bias
        return adjusted


class _ValueTracker:
    """The top-level argument value being written: where it started and its text so far.

    Fed every byte with the JSON state around it; ``active`` from the ``:`` after a key until
    the value (a string or a number) ends. Nested objects, lists, booleans and null are not
    followed.
    """

    def __init__(self) -> None:
        self.active = False
        self.kind = ""  # "" (before the value's first byte), "str" or "num"
        self.text = bytearray()
        self._start = 0  # bytes written before the value's first byte
        self._fed = 0

    def feed(self, byte: int, at_arguments: bool, was_in_string: bool, in_string: bool) -> None:
        self._fed += 1
        if not self.active:
            if at_arguments and not was_in_string and byte == 0x3A:  # the ':' after a key
                self.active, self.kind, self.text = True, "", bytearray()
                self._start = self._fed
            return
        if self.kind == "":
            if byte in b" \t\n\r":
                self._start = self._fed
            elif byte == 0x22:
                self.kind = "str"
            elif byte in _NUMBER_START:
                self.kind = "num"
                self.text.append(byte)
            else:
                self.active = False
        elif self.kind == "str":
            if in_string:
                self.text.append(byte)
            else:
                self.active = False
        elif byte in _NUMBER_BYTES:
            self.text.append(byte)
        else:
            self.active = False

    def before(self, written: bytes | bytearray) -> str:
        """What was written before this value began (what the planner should judge)."""
        return bytes(written[: self._start]).decode("utf-8", "replace")

    def extended(self, piece: bytes) -> tuple[str, bool] | None:
        """The value's text after ``piece``, and whether ``piece`` ends the value; ``None``
        when ``piece`` writes no value byte (a space, the opening quote) or starts something
        that is not a string or a number."""
        kind, text, grew = self.kind, bytearray(self.text), False
        for byte in piece:
            if kind == "":
                if byte in b" \t\n\r":
                    continue
                if byte == 0x22:
                    kind = "str"
                    continue
                if byte not in _NUMBER_START:
                    return None
                kind = "num"
            elif (kind == "str" and byte == 0x22 and not text.endswith(b"\\")) or (
                kind == "num" and byte not in _NUMBER_BYTES
            ):
                return (text.decode("utf-8", "replace"), True) if text else None
            text.append(byte)
            grew = True
        return (text.decode("utf-8", "replace"), False) if grew else None


_LOOP_PHRASE = 12  # bytes: a phrase this long or longer, three times in a row, is a loop
_LOOP_SPAN = 300  # the longest phrase looked for


def _repeats(text: bytes) -> bool:
    """Whether ``text`` ends with the same phrase three times in a row."""
    for size in range(_LOOP_PHRASE, min(_LOOP_SPAN, len(text) // 3) + 1):
        last = text[-size:]
        if text[-2 * size : -size] == last and text[-3 * size : -2 * size] == last:
            return True
    return False


_NUMBER_START = frozenset(b"-0123456789")
_NAME_VALUE = re.compile(r'"name"\s*:\s*"([^"]*)$')
# The first word a piece of a value writes (two characters at least).
_WORD_START = re.compile(r"[^\w]*(\w{2,})", re.UNICODE)
_NUMBER_BYTES = frozenset(b"-+.eE0123456789")


def _json_step(byte: int, depth: int, in_string: bool, escape: bool) -> tuple[int, bool, bool]:
    """One byte of a JSON scanner that tracks nesting depth and strings."""
    if in_string:
        if escape:
            return depth, True, False
        if byte == 0x5C:  # backslash
            return depth, True, True
        return depth, byte != 0x22, False
    if byte == 0x22:
        return depth, True, False
    if byte in (0x7B, 0x5B):
        return depth + 1, False, False
    if byte in (0x7D, 0x5D):
        return depth - 1, False, False
    return depth, False, False


_CLOSERS = b'"}],'
_CLOSER_CANDIDATES = 32  # the allowed tokens looked at for one that ends the value


@dataclass
class TokenChooser:
    """Chooses each next token from logits, under an optional llguidance matcher.

    Args:
        matcher: the grammar state, or ``None`` for unconstrained decoding.
        eog: ids that end generation (end of turn / end of text).
        temperature: 0 for greedy decoding (the default for tool calls: deterministic).
        seed: seed of the sampler when ``temperature > 0``.
        max_repeat: under a grammar, a token chosen this many times in a row is refused once:
            a 0.5B model can loop on a digit (``100000000000...``) until the budget runs out,
            and no real argument needs a run this long. A string value that repeats a phrase
            three times in a row is ended (see :meth:`CallShapeNudge.looping`).
        piece: the bytes of a token id; with ``tokenize``, lets a refused token that ends a
            value be replaced by the part of it the grammar allows (see :meth:`_closing_prefix`).
        tokenize: bytes to token ids (the grammar's tokenizer).
        prefer_name: the tool name to write where the grammar refuses the name the model
            wants (see :meth:`_toward_name`).
    """

    matcher: llguidance.LLMatcher | None
    eog: frozenset[int]
    temperature: float = 0.0
    seed: int = 0
    max_repeat: int = 12
    nudge: CallShapeNudge | None = None
    piece: Callable[[int], bytes] | None = None
    tokenize: Callable[[bytes], list[int]] | None = None
    prefer_name: str | None = None
    _mask: np.ndarray | None = field(default=None, init=False, repr=False)
    _last: int = field(default=-1, init=False, repr=False)
    _run: int = field(default=0, init=False, repr=False)
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        if self.matcher is not None and self.matcher.is_error():
            raise BackendError(f"the grammar failed to start: {self.matcher.get_error()}")

    def step(self, logits: np.ndarray) -> Step:
        """Pick the next token from ``logits`` (one row, the vocabulary) and advance the grammar.

        Raises:
            BackendError: the grammar reached a state with no allowed token (an llguidance bug
                or an impossible schema); never returns an invalid token.
        """
        if self.nudge is not None:
            logits = self.nudge.adjust(logits)
        top = int(np.argmax(logits)) if self.temperature <= 0 else self._sample(logits)
        if self.matcher is None:
            return Step(tokens=[top], stop=top in self.eog)
        quote = self._closing_quote()
        if quote is not None:
            return self._advance(quote, overridden=False, wanted=-1)
        looping = top == self._last and self._run >= self.max_repeat
        if not looping and self.matcher.try_consume_tokens([top]) == 1:
            return self._advance(top, overridden=False, wanted=-1)
        if looping:
            logits = logits.copy()
            logits[top] = -np.inf
        chosen = None if looping else self._toward_name()
        if chosen is None:
            chosen = self._best_allowed(logits, -1 if looping else top)
        if self.matcher.try_consume_tokens([chosen]) != 1:
            raise BackendError(f"the grammar refused its own token: {self.matcher.get_error()}")
        return self._advance(chosen, overridden=not looping, wanted=top)

    def _toward_name(self) -> int | None:
        """Where the grammar refuses the model's token inside a call's tool name, the token
        that goes on towards ``prefer_name`` (the tool a routing step chose), if the grammar
        allows it. The model's next best name is its second guess; the route's choice was made
        from a prompt written for choosing. Asked "Anula el vuelo a Berlín", the model wanted
        calendar_create, which the grammar had left out (no date), and its next best was
        calendar_update; the route had chosen calendar_cancel."""
        if self.prefer_name is None or self.nudge is None or self.tokenize is None:
            return None
        written = self.nudge.name_written()
        if written is None or not self.prefer_name.startswith(written):
            return None
        matcher = self.matcher
        assert matcher is not None
        rest = (self.prefer_name[len(written) :] + '"').encode("utf-8")
        return self._longest_head(rest, lambda token: matcher.validate_tokens([token]) == 1)

    def _closing_quote(self) -> int | None:
        """The token that ends the string value being written, where the value has fallen
        into a loop and the grammar lets it end here (the repeats are cut from the value
        before the call runs: :func:`app.call_values.without_repeats`)."""
        if self.nudge is None or self.tokenize is None or not self.nudge.looping():
            return None
        assert self.matcher is not None
        ids = self.tokenize(b'"')
        if len(ids) != 1 or self.matcher.try_consume_tokens(ids) != 1:
            return None
        return ids[0]

    def _advance(self, token: int, *, overridden: bool, wanted: int) -> Step:
        matcher = self.matcher
        assert matcher is not None
        self._run = self._run + 1 if token == self._last else 1
        self._last = token
        if matcher.is_error():
            raise BackendError(f"grammar error: {matcher.get_error()}")
        if token in self.eog or matcher.is_stopped():
            return Step([token], overridden, wanted, stop=True)
        forced = matcher.compute_ff_tokens()
        if forced and matcher.try_consume_tokens(forced) != len(forced):
            raise BackendError(f"the grammar refused its forced tokens: {matcher.get_error()}")
        if self.nudge is not None:
            self.nudge.observe([token, *forced])
        return Step(
            [token, *forced], overridden, wanted, stop=matcher.is_stopped(), forced=len(forced)
        )

    def _best_allowed(self, logits: np.ndarray, wanted: int = -1) -> int:
        matcher = self.matcher
        assert matcher is not None
        n_vocab = logits.shape[-1]
        if self._mask is None:
            self._mask = allocate_token_bitmask(1, n_vocab)
        fill_next_token_bitmask(matcher, self._mask)
        if matcher.is_error():
            raise BackendError(f"grammar error: {matcher.get_error()}")
        allowed = np.unpackbits(self._mask.view(np.uint8), bitorder="little")[:n_vocab].astype(bool)
        if not allowed.any():
            raise BackendError("the grammar allows no token here")
        masked = np.where(allowed, logits, -np.inf)
        wanted_piece = self.piece(wanted) if wanted >= 0 and self.piece is not None else b""
        if wanted_piece[:1] and wanted_piece[0] in _CLOSERS:  # the model meant to end a value
            closing = self._closing_prefix(wanted_piece, allowed)
            if closing is None and self.temperature <= 0:
                closing = self._other_closer(masked, int(allowed.sum()))
            if closing is not None:
                return closing
        if self.temperature <= 0:
            return int(np.argmax(masked))
        return self._sample(masked)

    def _closing_prefix(self, text: bytes, allowed: np.ndarray) -> int | None:
        """The longest allowed token that starts the refused token ``text``, which
        ends a value (``",`` ``"}`` ``},``): the model meant to close the value and go on in a
        way the grammar forbids (another argument where none is left). Closing it is what the
        model meant; the best allowed token instead would go on writing the value
        (``"tomorrow`` became ``"tomorrow 25 November 2026``).
        """
        if self.tokenize is None:
            return None
        return self._longest_head(
            text[:-1], lambda token: 0 <= token < allowed.shape[0] and bool(allowed[token])
        )

    def _longest_head(self, text: bytes, ok: Callable[[int], bool]) -> int | None:
        """The token of the longest start of ``text`` that is a single token ``ok`` accepts."""
        assert self.tokenize is not None
        for end in range(len(text), 0, -1):
            ids = self.tokenize(text[:end])
            if len(ids) == 1 and ok(ids[0]):
                return ids[0]
        return None

    def _other_closer(self, masked: np.ndarray, n_allowed: int) -> int | None:
        """The model's best allowed token (``masked``: logits, refused ones at -inf) that also
        ends the value, when the refused token ended it in a way the grammar forbids: ``,``
        after ``"number": 5`` where no other argument is left (the best allowed token was the
        digit ``1``, and "5, 10 and 15" became ``510``), or ``}`` where a required argument is
        still missing (``,`` then)."""
        assert self.piece is not None
        count = min(_CLOSER_CANDIDATES, n_allowed)
        best = np.argpartition(masked, -count)[-count:]
        for token in sorted((int(t) for t in best), key=lambda t: -masked[t]):
            piece = self.piece(token)
            if piece and piece[0] in _CLOSERS:
                return token
        return None

    def _sample(self, logits: np.ndarray) -> int:
        scaled = (logits - np.max(logits)) / self.temperature
        probs = np.exp(scaled)
        probs /= probs.sum()
        return int(self._rng.choice(len(probs), p=probs))


def make_matcher(
    lltokenizer: llguidance.LLTokenizer,
    tools: Sequence[ToolSpec],
    fmt: CallFormat,
    options: GenerateOptions,
) -> llguidance.LLMatcher:
    """The grammar state for one request: the tool grammar, or text only when calls are off.

    With a call planner (``options.more_calls``) calls always come as a JSON array, so the
    planner can ask for another one.

    Raises:
        GrammarError: the tools cannot be turned into a grammar.
        BackendError: the grammar does not start.
    """
    if options.response_schema is not None:
        grammar = json_schema_grammar(options.response_schema)
    elif options.allow_calls:
        if options.single_call:
            fmt = dataclasses.replace(fmt, allow_list=False, list_only=False)
        elif options.more_calls is not None and fmt.allow_list:
            fmt = dataclasses.replace(fmt, list_only=True)
        grammar = build_tool_grammar(
            tools, fmt, allow_text=options.allow_text, backslashes=options.backslashes
        )
    else:
        grammar = text_only_grammar()
    matcher = llguidance.LLMatcher(lltokenizer, grammar, log_level=0)
    if matcher.is_error():
        raise BackendError(f"the tool grammar failed to start: {matcher.get_error()}")
    return matcher


def make_chooser(
    matcher: llguidance.LLMatcher | None,
    fmt: CallFormat,
    options: GenerateOptions,
    piece: Callable[[int], bytes],
    eog: frozenset[int],
    tokenize: Callable[[bytes], list[int]] | None = None,
) -> TokenChooser:
    """The token chooser for one request, with the family's call-shape nudges and the value
    guards under a grammar (the nudge also follows the JSON, which ends a looping value)."""
    nudge = None
    if matcher is not None and options.response_schema is None:  # the nudges read calls
        nudge = CallShapeNudge(
            piece,
            more_calls=fmt.call_bias,
            fewer_arguments=fmt.argument_bias,
            plan=options.more_calls,
            numbers=options.numbers,
            number_bias=options.number_bias,
            other_numbers=options.other_numbers,
            examples=options.unsaid_examples,
            example_bias=options.example_bias,
        )
    return TokenChooser(
        matcher,
        eog,
        options.temperature,
        options.seed,
        nudge=nudge,
        piece=piece,
        tokenize=tokenize,
        prefer_name=options.prefer_tool,
    )
