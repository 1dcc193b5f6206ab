"""The ``callmemaybe`` command.

``callmemaybe`` alone opens the desktop window when there is a display (the terminal chat
otherwise). ``callmemaybe quick`` opens the quick-command popup of the running app (starting it
if needed), so any desktop can bind it to a key; Qt is imported only by these commands.
``callmemaybe call`` runs one request against a tools file and prints the answer as JSON,
which is how scripts, tests and benchmarks drive the model.
Errors print one sentence on stderr and exit with status 2; nothing prints a traceback at a user.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from app import __version__
from app.clock import ClockError
from app.evaluation import assistant_cli
from app.evaluation.assistant_cases import CasesError
from app.evaluation.runner import EvalInputError
from app.policy import pipeline
from app.policy.pipeline import UnknownPassError, add_without_option, parse_without
from app.runtime import BACKENDS, model_path, open_backend
from app.serve import cli as serve_cli
from app.settings import Settings, SettingsError, load_settings, save_settings
from app.tool_choice import respond
from backends.base import CancelToken, GenerateOptions
from backends.errors import BackendError
from backends.schema import ToolSpec, parse_tools
from connectors.errors import ConnectorError

EXIT_ERROR = 2
MCP_WAIT = 30.0  # seconds a command waits for the configured MCP servers to start
EXIT_INTERRUPTED = 130


class _Progress:
    """Byte progress on stderr for the first-run unpack or a hub download."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                desc=self.label,
                file=sys.stderr,
                leave=False,
            )
        self._bar.update(done - self._bar.n)
        if done >= total:
            self._bar.close()


def _add_model_options(parser: argparse.ArgumentParser, *, remote: bool = True) -> None:
    parser.add_argument("--model", help="'bundled', a .gguf path, or hf:OWNER/REPO/FILE.gguf[@REV]")
    parser.add_argument(
        "--backend",
        choices=["auto", *sorted(BACKENDS)],
        help="model runtime (default: settings; auto = MLX on Apple Silicon, else llama.cpp)",
    )
    parser.add_argument("--threads", type=int, help="decoding threads (default: settings)")
    parser.add_argument("--max-tokens", type=int, help="longest answer in tokens")
    if remote:
        parser.add_argument(
            "--base-url", help="with --backend openai: the model server's API root (…/v1)"
        )
        parser.add_argument(
            "--api-key",
            dest="remote_api_key",
            metavar="KEY",
            help="with --backend openai: the server's key (default: $CALLMEMAYBE_API_KEY)",
        )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and shell completion)."""
    parser = argparse.ArgumentParser(
        prog="callmemaybe",
        description="A private assistant whose local model calls tools reliably.",
    )
    parser.add_argument("--version", action="version", version=f"callmemaybe {__version__}")
    sub = parser.add_subparsers(dest="command")

    chat = sub.add_parser("chat", help="talk to the assistant in the terminal (the default)")
    chat.add_argument("--system", help="system message")
    _add_model_options(chat)

    call = sub.add_parser("call", help="one request against a tools file; prints JSON")
    call.add_argument("request", help="what the user asks")
    call.add_argument(
        "--tools", required=True, type=Path, help="JSON file: a list of tools (OpenAI format)"
    )
    call.add_argument("--system", help="system message placed before the request")
    call.add_argument(
        "--unconstrained", action="store_true", help="turn the grammar off (for comparison)"
    )
    _add_model_options(call)

    model = sub.add_parser("model", help="unpack or download the model; print its path")
    _add_model_options(model)
    model_sub = model.add_subparsers(dest="model_command")
    convert = model_sub.add_parser(
        "convert-mlx", help="convert a Qwen2 GGUF into an MLX model folder; print its path"
    )
    convert.add_argument(
        "gguf", nargs="?", type=Path, help="the GGUF file (default: the configured model)"
    )
    convert.add_argument("--out", type=Path, help="folder to write (default: in models/mlx)")
    convert.add_argument(
        "--bits",
        type=int,
        choices=[0, 4, 8],
        help="quantize with mlx-lm (default: 8 on Apple Silicon, 0 = keep bf16 elsewhere)",
    )

    evaluate = sub.add_parser("eval", help="score the model on a BFCL-format question file")
    evaluate.add_argument("questions", type=Path, help="BFCL question file (JSON lines)")
    evaluate.add_argument(
        "--answers",
        type=Path,
        help="BFCL possible_answer file (default: possible_answer/<same name> beside it)",
    )
    evaluate.add_argument("--limit", type=int, help="only the first N entries")
    evaluate.add_argument(
        "--from",
        dest="start",
        type=int,
        default=0,
        metavar="N",
        help="skip the first N entries (BFCL's first 100 were used to write rules: 100 and "
        "later are held out)",
    )
    add_without_option(evaluate)
    evaluate.add_argument(
        "--unconstrained", action="store_true", help="turn the grammar off (for comparison)"
    )
    evaluate.add_argument("--report", type=Path, help="write every entry's details as JSON")
    evaluate.add_argument(
        "--all-arguments",
        action="store_true",
        help="offer every optional argument in the grammar (for comparison: the assistant, "
        "and eval by default, offer only those the request mentions)",
    )
    evaluate.add_argument(
        "--select",
        type=int,
        default=0,
        metavar="K",
        help="offer only the K tools most relevant to each request (default: all)",
    )
    _add_model_options(evaluate)

    assistant_cli.add_parser(sub, _add_model_options)

    sub.add_parser(
        "policy", help="list the passes of the tool-choice policy, in the order they run"
    )

    ask = sub.add_parser("ask", help="one request to the assistant (changes wait for approval)")
    ask.add_argument("text", help="what you ask")
    ask.add_argument("--json", action="store_true", help="print the events as JSON lines")
    ask.add_argument("--conversation", type=int, help="continue this conversation")
    _add_model_options(ask)

    sub.add_parser("pending", help="list the actions waiting for your approval")
    approve = sub.add_parser("approve", help="approve (and run) a pending action")
    approve.add_argument("id", type=int)
    approve.add_argument("--edit", help="replace its arguments first (JSON)")
    reject = sub.add_parser("reject", help="reject a pending action")
    reject.add_argument("id", type=int)
    undo = sub.add_parser("undo", help="undo the last action, or the one given")
    undo.add_argument("id", type=int, nargs="?")
    history = sub.add_parser("history", help="recent actions and conversations")
    history.add_argument("--limit", type=int, default=20)

    sub.add_parser("tools", help="print every tool as an OpenAI function definition (JSON)")
    run_tool = sub.add_parser("tool", help="run one tool directly; prints its result as JSON")
    run_tool.add_argument("name", help="the tool's name (see `callmemaybe tools`)")
    run_tool.add_argument("arguments", nargs="?", default="{}", help="its arguments as JSON")
    run_tool.add_argument(
        "--yes",
        action="store_true",
        help="approve a tool that changes your data (or is set to 'ask'); it is recorded and "
        "can be undone like any approved action",
    )

    sub.add_parser("gui", help="open the desktop window (the default when there is a display)")
    sub.add_parser("quick", help="open the quick command in the running app (starting it)")
    shot = sub.add_parser("screenshot", help="render the window over a sample conversation")
    shot.add_argument("out", type=Path, help="PNG file to write")
    shot.add_argument("--size", default="1100x700", help="window size WxH (default 1100x700)")
    shot.add_argument("--theme", choices=["light", "dark"], help="colour scheme (default: system)")
    shot.add_argument(
        "--state",
        choices=["pending", "result", "question", "welcome", "popup"],
        default="pending",
        help="what the sample shows: a change waiting for approval (default), its result after "
        "approval, a question from the assistant, the first-run welcome, or the quick popup",
    )

    serve_cli.add_parser(sub, lambda p: _add_model_options(p, remote=False))

    sub.add_parser(
        "mcp",
        help="serve the calendar, notes and files tools to an MCP client over stdio "
        "(changes wait for your approval)",
    )

    folders = sub.add_parser("folders", help="list, grant or revoke the folders files may touch")
    folders.add_argument("action", nargs="?", choices=["list", "add", "remove"], default="list")
    folders.add_argument("path", nargs="?", type=Path, help="the folder to add or remove")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    overrides = {
        "model": getattr(args, "model", None),
        "backend": getattr(args, "backend", None),
        "threads": getattr(args, "threads", None),
        "max_tokens": getattr(args, "max_tokens", None),
        "base_url": getattr(args, "base_url", None),
        "api_key": getattr(args, "remote_api_key", None),
    }
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    without = getattr(args, "without", None)
    try:
        pipeline.set_without(parse_without(without) | frozenset(settings.policy_without))
    except UnknownPassError as exc:
        raise SettingsError(str(exc)) from exc
    return settings


def read_tools_file(path: Path) -> list[ToolSpec]:
    """Tools from a JSON file: a list, ``{"tools": [...]}``, or a BFCL ``function`` list.

    Raises:
        BackendError: unreadable file or invalid tools (the message says which).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BackendError(f"cannot read the tools file {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise BackendError(f"the tools file {path} is not valid JSON: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("tools", data.get("function", [data]))
    if not isinstance(data, list):
        raise BackendError(f"the tools file {path} must hold a list of tools")
    return parse_tools(data)


def _cmd_call(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    settings = _settings(args)
    tools = read_tools_file(args.tools)
    backend = stack.enter_context(closing(open_backend(settings, _Progress("Unpacking the model"))))
    messages: list[dict[str, Any]] = []
    if args.system:
        messages.append({"role": "system", "content": args.system})
    messages.append({"role": "user", "content": args.request})
    completion = respond(
        backend,
        messages,
        tools,
        options=GenerateOptions(max_tokens=settings.max_tokens, constrained=not args.unconstrained),
    )
    print(json.dumps(completion.to_json(), ensure_ascii=False))
    return 0


def _cmd_model(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    if args.model_command == "convert-mlx":
        return _cmd_convert_mlx(args)
    path = model_path(_settings(args), progress=_Progress("Preparing the model"))
    print(path)
    return 0


def _cmd_convert_mlx(args: argparse.Namespace) -> int:
    from app.paths import models_dir
    from backends.mlx_convert import convert_gguf, default_bits
    from backends.mlx_models import MLX_SUBDIR, converted_model

    gguf = args.gguf
    if gguf is None:
        settings = _settings(args).model_copy(update={"backend": "llama.cpp"})
        gguf = model_path(settings, progress=_Progress("Unpacking the model"))
    progress = _Progress("Converting to MLX")
    if args.out is None:
        out = converted_model(gguf, models_dir() / MLX_SUBDIR, progress, bits=args.bits)
    else:
        bits = default_bits() if args.bits is None else (args.bits or None)
        out = convert_gguf(gguf, args.out, bits=bits, progress=progress)
    print(out)
    return 0


def _open_assistant(args: argparse.Namespace, stack: contextlib.ExitStack) -> Any:
    from app.assistant import Assistant, AssistantOptions
    from app.toolbox import open_toolbox

    settings = _settings(args)
    toolbox = open_toolbox(settings, mcp_wait=MCP_WAIT)
    stack.callback(toolbox.close)
    toolbox.context.store()  # open (and migrate) the store before the model loads
    print("Loading the model…", file=sys.stderr)
    backend = stack.enter_context(closing(open_backend(settings, _Progress("Unpacking the model"))))
    options = AssistantOptions(max_tokens=settings.max_tokens, policies=settings.tool_policies)
    return Assistant(backend, toolbox.registry, toolbox.context, options)


def _decisions(stack: contextlib.ExitStack, *, mcp: bool = False) -> Any:
    """Approvals over the store; with ``mcp`` the MCP servers start too (approving one of
    their tools' calls runs it on its server)."""
    from app.actions import Actions
    from app.conversations import Conversations
    from app.decisions import Decisions
    from app.toolbox import open_toolbox

    toolbox = open_toolbox(load_settings(), mcp_wait=MCP_WAIT if mcp else None)
    stack.callback(toolbox.close)
    context = toolbox.context
    return Decisions(
        Actions(toolbox.registry, context), Conversations(context.store, context.current_time)
    )


def _cmd_chat(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    from app.decisions import Decisions
    from app.terminal import ask_inline, render

    assistant = _open_assistant(args, stack)
    decisions = Decisions(assistant.actions, assistant.conversations)
    print("Call-Me-Maybe. Type a message; an empty line or Ctrl-D quits.", file=sys.stderr)
    conversation: int | None = None
    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            print(file=sys.stderr)
            return 0
        if not line:
            return 0
        cancel = CancelToken()
        print("assistant> ", end="", flush=True)
        try:
            done = render(assistant.turn(conversation, line, cancel=cancel))
        except KeyboardInterrupt:
            cancel.cancel()
            print("\n(stopped)")
            continue
        except BackendError as exc:
            print(f"error: {exc}", file=sys.stderr)
            continue
        if done is not None:
            conversation = done.conversation_id
            if done.pending:
                try:
                    ask_inline(decisions, done.pending)
                except EOFError:
                    return 0


def _cmd_ask(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    from app.terminal import render, render_json

    assistant = _open_assistant(args, stack)
    events = assistant.turn(args.conversation, args.text)
    done = render_json(events) if args.json else render(events)
    if done is not None and done.pending and not args.json:
        ids = " ".join(str(i) for i in done.pending)
        print(f"(approve with `callmemaybe approve {ids}`)", file=sys.stderr)
    return 0


def _cmd_pending(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    decisions = _decisions(stack)
    waiting = decisions.actions.pending()
    from app.action_summary import summarize_action

    for action in waiting:  # the same sentence and rows as the window's approval card
        lines = summarize_action(action).lines()
        print(f"#{action.id} {action.state.value}: {lines[0]}")
        for line in lines[1:]:
            print(line)
    if not waiting:
        print("nothing is waiting for approval", file=sys.stderr)
    return 0


def _cmd_approve(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    from app.terminal import describe_outcome

    action = _decisions(stack, mcp=True).approve(args.id, edited=args.edit)
    print(describe_outcome(action))
    return 0 if action.state.value == "done" else EXIT_ERROR


def _cmd_reject(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    action = _decisions(stack).reject(args.id)
    print(action.describe())
    return 0


def _cmd_undo(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    _action, said = _decisions(stack).undo(args.id)
    print(said)
    return 0


def _cmd_history(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    decisions = _decisions(stack)
    for action in decisions.actions.history(args.limit):
        print(f"{action.created:%Y-%m-%d %H:%M} {action.describe()}")
    for info in decisions.conversations.latest(args.limit):
        print(f"{info.updated:%Y-%m-%d %H:%M} conversation #{info.id}: {info.title}")
    return 0


def _cmd_eval(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    from tqdm import tqdm

    from app.evaluation import runner

    answers = args.answers or runner.default_answers_path(args.questions)
    entries = runner.load_entries(args.questions, answers, args.limit, start=args.start)
    settings = _settings(args)
    backend = stack.enter_context(closing(open_backend(settings, _Progress("Unpacking the model"))))
    options = GenerateOptions(max_tokens=settings.max_tokens, constrained=not args.unconstrained)
    correct = 0
    with tqdm(total=len(entries), desc=args.questions.stem, file=sys.stderr, unit="q") as bar:

        def advance(result: runner.Result) -> None:
            nonlocal correct
            correct += result.correct
            bar.set_postfix_str(f"{correct}/{bar.n + 1} correct")
            bar.update()

        results = runner.run(
            backend,
            entries,
            options,
            on_result=advance,
            select=args.select,
            scope=not args.all_arguments,
        )
    if args.report:
        runner.write_report(
            args.report,
            results,
            {
                "questions": str(args.questions),
                "model": settings.model,
                "constrained": not args.unconstrained,
                "limit": args.limit,
                "from": args.start,
                "without": sorted(pipeline.disabled()),
                "select": args.select,
                "scope": not args.all_arguments,
            },
        )
    for line in runner.report_lines(results):
        print(line)
    return 0


def _cmd_policy() -> int:
    """Print the decision pipeline (app.policy.pipeline), one pass a line; switched-off passes
    (the ``policy_without`` setting) are marked."""
    off = frozenset(load_settings().policy_without)
    for line, item in zip(pipeline.table(), pipeline.PIPELINE, strict=True):
        print(line + ("  [off]" if item.name in off else ""))
    return 0


def _cmd_eval_assistant(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    progress = _Progress("Unpacking the model")
    return assistant_cli.command(args, stack, _settings(args), open_backend, progress)


def _cmd_tools(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    from connectors.registry import load_registry

    print(json.dumps(load_registry().definitions(), indent=2, ensure_ascii=False))
    return 0


def _cmd_tool(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    from app.tool_command import printable, run_tool_command
    from app.toolbox import open_toolbox

    settings = load_settings()
    toolbox = open_toolbox(settings, mcp_wait=MCP_WAIT)
    stack.callback(toolbox.close)
    result = run_tool_command(
        toolbox.registry,
        toolbox.context,
        args.name,
        args.arguments,
        approved=args.yes,
        policies=settings.tool_policies,
    )
    print(printable(result))
    return 0


def _cmd_folders(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    settings = load_settings()
    folders = list(settings.granted_folders)
    if args.action != "list":
        if args.path is None:
            raise SettingsError(f"say which folder to {args.action}")
        folder = args.path.expanduser().resolve()
        if args.action == "add":
            if not folder.is_dir():
                raise SettingsError(f"{folder} is not a folder")
            if str(folder) not in folders:
                folders.append(str(folder))
        elif str(folder) in folders:
            folders.remove(str(folder))
        else:
            raise SettingsError(f"{folder} is not a granted folder")
        save_settings(settings.model_copy(update={"granted_folders": folders}))
    for folder_name in folders:
        print(folder_name)
    if not folders:
        print("no folders granted: `callmemaybe folders add PATH` grants one", file=sys.stderr)
    return 0


def has_display() -> bool:
    """Whether a window can be shown: an X11 or Wayland display, or macOS/Windows."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _cmd_gui(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    from app.ui.app import run_gui

    return run_gui("show")


def _cmd_quick(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    from app.ui.app import run_gui

    return run_gui("quick")


def _cmd_screenshot(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    from app.ui.app import screenshot

    try:
        width, height = (int(part) for part in args.size.lower().split("x"))
    except ValueError:
        print(f"error: --size wants WxH, e.g. 1280x800, not {args.size!r}", file=sys.stderr)
        return EXIT_ERROR
    print(screenshot(args.out, (width, height), theme=args.theme, state=args.state))
    return 0


def _cmd_mcp(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    from app.mcp.server import serve_stdio

    return serve_stdio(load_settings())


_COMMANDS = {
    "gui": _cmd_gui,
    "quick": _cmd_quick,
    "screenshot": _cmd_screenshot,
    "call": _cmd_call,
    "model": _cmd_model,
    "chat": _cmd_chat,
    "eval": _cmd_eval,
    "eval-assistant": _cmd_eval_assistant,
    "policy": lambda args, stack: _cmd_policy(),
    "serve": lambda args, stack: serve_cli.command(
        args, stack, _settings(args), open_backend, _Progress("Unpacking the model")
    ),
    "ask": _cmd_ask,
    "pending": _cmd_pending,
    "approve": _cmd_approve,
    "reject": _cmd_reject,
    "undo": _cmd_undo,
    "history": _cmd_history,
    "tools": _cmd_tools,
    "tool": _cmd_tool,
    "folders": _cmd_folders,
    "mcp": _cmd_mcp,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``callmemaybe`` console script."""
    args = build_parser().parse_args(argv)
    default = "gui" if has_display() else "chat"
    command = _COMMANDS[args.command or default]
    try:
        with contextlib.ExitStack() as stack:  # closes the model whatever happens
            return command(args, stack)
    except (
        BackendError,
        SettingsError,
        EvalInputError,
        CasesError,
        ClockError,
        ConnectorError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
