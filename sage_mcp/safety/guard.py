"""Around every tool handler: the key check (:mod:`~sage_mcp.safety.keys`), then the user's
confirmation (:mod:`~sage_mcp.safety.confirm`), then the handler with its writes logged."""

from __future__ import annotations

import logging
from typing import Any

import anyio
from mcp.types import CallToolResult, InputRequiredResult

from sage_mcp.config import Settings
from sage_mcp.registry import RegisteredTool
from sage_mcp.safety.confirm import Answered, Asker, Confirmations, TokenSigner
from sage_mcp.safety.keys import KeyedCall, KeyGuard, replay_unavailable
from sage_mcp.sage import writeplan
from sage_mcp.sage.client import CallBudget
from sage_mcp.sage.errors import SageNotFoundError
from sage_mcp.stores.fingerprints import FingerprintStore
from sage_mcp.tools._base import ToolContext, ToolError

log_ = logging.getLogger(__name__)

Outcome = dict[str, Any] | CallToolResult | InputRequiredResult


def answered_pending(result: CallToolResult | InputRequiredResult) -> bool:
    """Whether a result that ended a call early waits for the user (a question or a preview)."""
    if isinstance(result, InputRequiredResult):
        return True
    data = result.structured_content
    return isinstance(data, dict) and data.get("confirmation_required") is True


class WriteGuard:
    def __init__(
        self, fingerprints: FingerprintStore, settings: Settings, *, signer: TokenSigner | None = None
    ) -> None:
        self.keys = KeyGuard(fingerprints)
        self.confirmations = Confirmations(settings, signer)
        self.fingerprints = fingerprints

    def close(self) -> None:
        """Let go of the fingerprint store's resources (it reopens them if used again)."""
        close = getattr(self.fingerprints, "close", None)
        if callable(close):
            close()

    async def run(
        self, ctx: ToolContext, tool: RegisteredTool, args: dict[str, Any], asker: Asker, budget: CallBudget
    ) -> Outcome:
        """The handler's result, or the result that ends the call before anything is sent."""
        keyed: KeyedCall | None = None
        if ctx.writes and args.get("idempotency_key"):
            keyed = await self.keys.open(ctx, tool.spec.name, args)
            if keyed.replay is not None:
                return await self._replayed(ctx, tool, args, keyed)
        log = keyed.log if keyed is not None else writeplan.WriteLog()
        try:
            decision = await self.confirmations.check(ctx, tool, args, asker)
            if isinstance(decision, Answered):
                if keyed is not None:
                    with anyio.CancelScope(shield=True):
                        await keyed.failed(None, writes_sent=0)
                return decision.result if decision.result is not None else (decision.data or {})
            with writeplan.using(log):
                data = await tool.handler(ctx, args)
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                if keyed is not None:
                    await keyed.failed(exc, writes_sent=budget.writes_sent)
                elif budget.writes_sent:
                    await self._remember(ctx, tool, args, log, exc)
            raise
        with anyio.CancelScope(shield=True):
            if keyed is not None:
                await keyed.succeeded()
            elif ctx.writes:
                await self._remember(ctx, tool, args, log, None)
        return data

    async def _remember(
        self,
        ctx: ToolContext,
        tool: RegisteredTool,
        args: dict[str, Any],
        log: writeplan.WriteLog,
        exc: BaseException | None,
    ) -> None:
        """A write sent without a key is kept under the ``idempotency_id`` it used (its result returns it, and
        a timeout's message names it): repeating the call with that id as ``idempotency_key`` is then a
        replay, and the id with other arguments is refused. A failure to keep it never fails the write."""
        if not ctx.idempotency_used:
            return
        try:
            keyed = await self.keys.open(ctx, tool.spec.name, args, key=ctx.idempotency_used)
            keyed.log = log
            if exc is None:
                await keyed.succeeded()
            else:
                await keyed.failed(exc, writes_sent=1)
        except Exception as problem:
            log_.warning("could not keep the fingerprint of %s (%s)", tool.spec.name, type(problem).__name__)

    @staticmethod
    async def _replayed(ctx: ToolContext, tool: RegisteredTool, args: dict[str, Any], keyed: KeyedCall) -> Outcome:
        """The first call's result, read from Sage as it is now: nothing is sent."""
        assert keyed.replay is not None
        try:
            with writeplan.using(keyed.replay):
                data = await tool.handler(ctx, args)
        except writeplan.ReplayUnavailable as exc:
            raise ToolError(replay_unavailable(str(args["idempotency_key"]), keyed.fingerprint, str(exc))) from None
        except SageNotFoundError as exc:
            gone = f"Sage no longer has {exc.path}: it was deleted since"
            raise ToolError(replay_unavailable(str(args["idempotency_key"]), keyed.fingerprint, gone)) from None
        return {**data, "replayed": True}
