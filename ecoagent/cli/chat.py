"""``ecoagent chat``: an interactive session where a thumbs-up banks what worked.

Each turn runs up the ladder and shows, as it happens, the demonstrations used,
every agent's message, execution output, escalations, and a footer with the rung,
tokens and cost of the turn and of the session. ``/good`` banks the last query with
the code that answered it (the person's word overrules the judge when that code ran
successfully); ``/bad`` records the failure and offers ``/retry`` from the next
rung. Follow-up turns carry the conversation so far: the query names the chat's
session, and the assistant's memory stage gives it the summary, the recent turns and
recalled ones (with ``--server``, the server's assistant does). The banner and prompt show at
once; models, embedder and bank load in the background (:class:`Loader`). Ctrl-C cancels the running query
(its sandbox container is removed) and returns to the prompt; Ctrl-D exits.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..config import Settings
from ..conversation import session_file
from ..costs import CostTally
from ..errors import EcoagentError, SandboxError
from ..query import Query
from ..records import RunRecord
from ._chat_context import ContextCommands
from ._common import SERVER_OPTION, fail, handle_errors, out, remote_from, settings_from
from ._render import LiveRun, footer, ladder_line, money
from ._terminal import Loader, read_line, saved_sessions, setup_history, warm_assistant

if TYPE_CHECKING:
    from ..assistant import EcoAssistant
    from ..conversation import Conversation
    from ..serve.client import RemoteAssistant

__all__ = ["ChatSession", "Loader", "chat"]


class ChatSession(ContextCommands):
    """The state of one chat and its slash commands (``/help`` is built from their docstrings)."""

    def __init__(
        self,
        eco: EcoAssistant | Loader | RemoteAssistant,
        console: Console,
        settings: Settings,
        *,
        session: str | None = None,
    ) -> None:
        from ..serve.client import RemoteAssistant

        self._source = eco
        self.console = console
        self.settings = settings
        # With --server, the server holds the bank, the ladder and the conversation's memory (by session id).
        self.remote = eco if isinstance(eco, RemoteAssistant) else None
        self.rungs = self.remote.rungs if self.remote else settings.ladder.resolved()
        self.session = session or _new_session()
        self.turns: list[RunRecord] = []
        self.cost = CostTally()
        self.last_retry_from = 0
        self.material: str | None = None  # what /context or /paste attached to the next questions
        self.read_line: Callable[[], str] = read_line

    @property
    def eco(self) -> EcoAssistant:
        """The assistant (waits for the loader the first time)."""
        if self.remote is not None:
            raise EcoagentError(
                "not available with --server: the server holds the bank and the memory",
                "run chat without --server for /bank, /memory and /forget",
            )
        return self._source.get() if isinstance(self._source, Loader) else self._source  # type: ignore[return-value]

    @property
    def feedback_to(self) -> EcoAssistant | RemoteAssistant:
        """Where /good and /bad go: the server with --server, else the local assistant."""
        return self.remote if self.remote is not None else self.eco

    # ---- commands -----------------------------------------------------------------
    def cmd_help(self, arg: str) -> None:
        """Show the commands."""
        for name, method in self.commands().items():
            doc = (inspect.getdoc(method) or "").splitlines()[0]
            self.console.print(f"  /{name:<8} {doc}")
        self.console.print("  Ctrl-C cancels a running query; Ctrl-D or /exit leaves.")

    def cmd_good(self, arg: str) -> None:
        """Thumbs-up: bank the last query and the code that answered it."""
        last = self._last()
        if last is None:
            return
        result = self.feedback_to.feedback(last.run_id, good=True)
        if result.solution_id:
            verb = "banked" if result.created else "updated"
            self.console.print(
                f"👍 {verb} solution {result.solution_id}" + (f" ({result.note})" if result.override else "")
            )
        else:
            self.console.print(f"👍 recorded; {result.note}")

    def cmd_bad(self, arg: str) -> None:
        """Thumbs-down: record the failure; /retry then runs it from the next rung."""
        last = self._last()
        if last is None:
            return
        result = self.feedback_to.feedback(last.run_id, good=False)
        for sid in result.retired:
            self.console.print(f"retired demonstration {sid}")
        names = [r.name for r in self.rungs]
        tried = names.index(last.attempts[-1].rung) if last.attempts else -1
        self.last_retry_from = tried + 1 if last.resolved else 0
        if self.last_retry_from < len(names):
            self.console.print(f"👎 recorded. /retry runs it again from {names[self.last_retry_from]}.")
        else:
            self.console.print("👎 recorded. It was already the top rung; rephrase the query, or add a stronger rung.")

    def cmd_retry(self, arg: str) -> None:
        """Run the last query again (from the next rung after a /bad)."""
        last = self._last()
        if last is None:
            return
        start, self.last_retry_from = self.last_retry_from, 0
        if start >= len(self.rungs):
            start = 0
        self.ask(last.query, start_rung=start, retry=True)

    def cmd_cost(self, arg: str) -> None:
        """Tokens and cost of this session, per rung."""
        table = Table(title="session cost", title_justify="left")
        for col in ("rung", "attempts", "solved", "tokens", "cost"):
            table.add_column(col)
        cost = self.cost
        for rung, row in cost.per_rung.items():
            table.add_row(rung, str(row.attempts), str(row.solved), f"{row.tokens:,}", money(row.cost))
        table.add_row("total", "", "", f"{cost.tokens:,}", money(cost.cost))
        self.console.print(table)
        self.console.print(f"top-rung estimate {money(cost.estimate)} · saved {money(cost.saving_estimate)} (estimate)")

    def cmd_history(self, arg: str) -> None:
        """The queries of this session."""
        if not self.turns:
            self.console.print("no queries yet")
        for i, r in enumerate(self.turns, 1):
            mark = "✓" if r.resolved else "⚠" if r.unverified else "✗"
            self.console.print(
                f"  {i}. {mark} {r.answered_by or '-':<12} {money(r.total_cost):>9}  {r.query}  ({r.run_id})",
                markup=False,
            )

    def cmd_bank(self, arg: str) -> None:
        """Search the bank: /bank QUERY."""
        if not arg.strip():
            self.console.print(
                f"the bank at {self.eco.bank.location} holds {self.eco.bank.count()} solution(s); /bank QUERY searches it"
            )
            return
        hits = self.eco.bank.retrieve(arg, k=5, threshold=0.0, count=False)
        if not hits:
            self.console.print("no matches")
        for sol, score in hits:
            self.console.print(f"  {score:.2f}  {sol.query}  ({sol.id})", markup=False)

    def cmd_ladder(self, arg: str) -> None:
        """The rungs and their prices."""
        self.console.print(ladder_line(self.rungs))

    def cmd_new(self, arg: str) -> None:
        """Start a fresh conversation (earlier turns are no longer context; recall keeps them)."""
        self.session = _new_session()  # the old session stays saved: --resume continues it
        self.console.print("new conversation")

    def _summary_written(self, eco: EcoAssistant) -> None:
        """Wait, with a spinner, for the summary the last answer started (the next turn reads it)."""
        if eco.memory.busy(self.session):
            with self.console.status("updating the conversation summary…"):
                eco.memory.wait(self.session)

    def _conversation(self) -> Conversation:
        """This session's conversation, once its summary is written."""
        self._summary_written(self.eco)
        return self.eco.memory.conversation(self.session)

    def cmd_memory(self, arg: str) -> None:
        """Exactly what the next follow-up reads of this conversation; /memory QUESTION adds what it would recall."""
        conversation = self._conversation()
        view = self.eco.memory.run(conversation.memory_for(arg.strip() or None))
        text = view.text()
        self.console.print(text if text else "(nothing yet: the next question starts a conversation)", markup=False)
        memory = conversation.memory
        if memory is not None:
            used = memory.usage
            self.console.print(
                f"{len(view.verbatim)} turn(s) verbatim · {memory.folded_turns} folded into the summary by "
                f"{self.eco.summarizer()[0]} ({used.prompt_tokens + used.completion_tokens:,} tokens so far)",
                style="dim",
            )
        recall = conversation.recall
        if recall is not None:
            hint = "" if arg.strip() else " · /memory QUESTION shows which a follow-up would recall"
            self.console.print(
                f"recall: {recall.count()} earlier turn(s) stored for user {recall.user}{hint}", style="dim"
            )

    def cmd_forget(self, arg: str) -> None:
        """Clear this conversation's memory and its recalled turns; /forget all clears every session's."""
        conversation = self._conversation()
        gone = self.eco.memory.run(conversation.forget(everything=arg.strip() == "all"))
        self.eco.memory.save(self.session)
        self.console.print(f"forgot the summary, the recent turns and {gone} recalled turn(s)")

    def cmd_exit(self, arg: str) -> None:
        """Leave the chat."""
        raise EOFError

    def commands(self) -> dict[str, Callable[[str], None]]:
        return {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("cmd_")}

    # ---- turns --------------------------------------------------------------------------
    def _last(self) -> RunRecord | None:
        last = self.turns[-1] if self.turns else None
        if last is None:
            self.console.print("nothing to act on yet: ask something first")
        return last

    def ask(self, text: str, *, start_rung: int = 0, retry: bool = False) -> None:
        """Run one query of this session; Ctrl-C cancels it and returns to the prompt."""
        replaces = self.turns[-1].run_id if retry and self.turns else None
        query = Query(text, start_rung=start_rung, session=self.session, context=self.material, replaces=replaces)
        try:
            if self.remote is not None:
                record = asyncio.run(self.remote.run(query, on_event=LiveRun(self.console)))
            else:
                eco = self.eco  # may wait for the loader; Ctrl-C while it loads cancels this query only
                self._summary_written(eco)
                record = asyncio.run(eco.run(query, on_event=LiveRun(self.console)))
        except KeyboardInterrupt:
            where = "the server stops the query" if self.remote is not None else "its sandbox container was removed"
            self.console.print(f"[yellow]cancelled[/] ({where})")
            return
        except SandboxError:
            raise
        except EcoagentError as exc:
            fail(exc)
            return
        self.turns.append(record)
        self.cost.add(record)
        if record.final_answer:
            self.console.print(record.final_answer, markup=False)
        self.console.print(footer(record, self.cost))
        if not record.resolved and record.last_good_execution is not None:
            self.console.print("if the output above is right, /good banks it anyway", style="dim")

    def close(self) -> None:
        """Finish the summary, save the session, release the assistant (if it ever loaded)."""
        if self.remote is not None:
            return
        if self.turns:
            self.console.print(f"continue this conversation: ecoagent chat --resume {self.session}", style="dim")
        source = self._source
        if isinstance(source, Loader):
            if not source.ready:
                return  # still loading: the process is ending, the daemon thread goes with it
            try:
                source.get().close()
            except BaseException:
                return  # it never loaded: nothing to release
        else:
            source.close()

    def handle(self, line: str) -> None:
        """One line of input: a slash command or a query."""
        text = line.strip()
        if not text:
            return
        if text.startswith("/"):
            name, _, arg = text[1:].partition(" ")
            command = self.commands().get(name.lower())
            if command is None:
                self.console.print(f"unknown command /{name}; /help lists them")
                return
            try:
                command(arg)
            except EcoagentError as exc:
                fail(exc)
            return
        self.ask(text)


def _banner(session: ChatSession) -> None:
    """What the session runs on: from the settings alone, so it shows before anything loads."""
    bank = session.settings.bank
    session.console.print("[bold]ecoagent chat[/] — cheapest model first, escalating only on failure")
    session.console.print(f"ladder: {ladder_line(session.rungs)}")
    if session.remote is not None:
        session.console.print(
            f"server: {session.remote.url} (it holds the bank and this conversation's memory)", markup=False
        )
    else:
        session.console.print(f"bank: {bank.url or bank.storage_path()} (/bank shows its size)", markup=False)
    session.console.print("/help for commands · /good banks the last answer · Ctrl-D or /exit to leave")


@handle_errors
def chat(
    ctx: typer.Context,
    ladder: str | None = typer.Option(None, "--ladder", help="Ladder preset name or TOML path."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Never answer a first turn from the cache or by replay."),
    resume: str | None = typer.Option(
        None, "--resume", help="Continue a saved session (its id is shown when a chat ends)."
    ),
    server: Annotated[str | None, SERVER_OPTION] = None,
) -> None:
    """Chat: queries run up the ladder; /good banks what worked."""
    settings = settings_from(ctx, ladder=ladder, no_cache=no_cache)
    if server:
        if ladder or no_cache or resume:
            raise EcoagentError(
                "--ladder, --no-cache and --resume do not apply with --server", "drop them", exit_code=2
            )
        remote = remote_from(server)
        assert remote is not None
        session = ChatSession(remote, out, settings)
    else:
        settings.ladder.resolved()  # a bad ladder or --resume fails here, before the loader starts anything
        if resume is not None and not session_file(resume).is_file():
            known = ", ".join(saved_sessions()[:5]) or "none yet"
            raise EcoagentError(
                f"no saved chat session {resume!r}", f"saved sessions, newest first: {known}", exit_code=2
            )
        session = ChatSession(Loader(lambda: warm_assistant(settings), out), out, settings, session=resume)
    interactive = sys.stdin.isatty()
    if interactive:
        session.read_line = lambda: input("")
    save_history = setup_history() if interactive else (lambda: None)
    _banner(session)
    interrupts = 0
    try:
        while True:
            try:
                line = input("› ") if interactive else read_line()
            except KeyboardInterrupt:  # at the prompt: a fresh line; the second time, how to leave
                interrupts += 1
                out.print("\n(press Ctrl-D or type /exit to leave)" if interrupts >= 2 else "")
                continue
            except EOFError:
                break
            interrupts = 0
            if not interactive and line.strip():
                out.print(f"› {line.strip()}", markup=False)
            try:
                session.handle(line)
            except EOFError:
                break
    finally:
        save_history()
        session.close()
    out.print("bye")


def _new_session() -> str:
    return uuid.uuid4().hex[:12]
