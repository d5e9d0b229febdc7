"""The copy studio service: choosing a provider, generating variants, logging usage.

    studio = CopyStudio(services.store, services.settings.llm)
    for stream in studio.generate(user, request):      # one Stream per variant
        text = stream.text()                            # or st.write_stream(stream)

Admins set the default provider and model (stored, audited; the BEACON_LLM_* settings
are the fallback); analysts may pick another provider per generation. Every finished
or failed generation is logged with its tokens, cost and timing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import pandas as pd
from sqlalchemy import select

from core import audit
from core.auth.roles import Role, User, require
from core.config import LlmSettings
from core.copy import pricing
from core.copy.models import CopyGenerationRow
from core.copy.providers import PROVIDERS, Draft, GenerationRequest, Stream, spec
from core.errors import UserInputError
from core.store import Store
from core.store.models import MetaRow, as_utc, utcnow

log = logging.getLogger(__name__)
DEFAULT_PROVIDER_KEY = "copy.default_provider"
DEFAULT_MODEL_KEY = "copy.default_model"


@dataclass(frozen=True, slots=True)
class ProviderChoice:
    """A provider as the page offers it: whether it can run now, and why not."""

    name: str
    label: str
    model: str
    offline: bool
    unavailable: str | None

    @property
    def available(self) -> bool:
        return self.unavailable is None


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """Generations per day over a window, with totals and the window before it."""

    days: int
    daily: pd.DataFrame  # day, generations, tokens, cost_usd, failures
    generations: int
    previous_generations: int
    tokens: int
    cost_usd: float | None
    template_share: float | None


class CopyStudio:
    """Generation, provider defaults and the usage log over one store."""

    def __init__(self, store: Store, llm: LlmSettings) -> None:
        self.store = store
        self.llm = llm

    # --- providers ---------------------------------------------------------------------

    def model(self) -> str:
        """The model the openai provider uses: the admin's choice, else BEACON_LLM_MODEL."""
        return self.store.get_meta(DEFAULT_MODEL_KEY) or self.llm.model

    def providers(self) -> list[ProviderChoice]:
        """Every registered provider and whether it can run with the current settings."""
        model = self.model()
        return [
            ProviderChoice(
                s.name,
                s.label,
                "" if s.offline else model,
                s.offline,
                s.unavailable(self.llm, model),
            )
            for s in PROVIDERS.values()
        ]

    def configured_provider(self) -> str:
        """The default as configured: the admin's choice, else BEACON_LLM_PROVIDER ('auto')."""
        return self.store.get_meta(DEFAULT_PROVIDER_KEY) or self.llm.provider or "auto"

    def default_provider(self) -> str:
        """The provider used when none is chosen; 'auto' prefers a configured model."""
        chosen = self.configured_provider()
        if chosen != "auto":
            return chosen
        usable = [c for c in self.providers() if c.available and not c.offline]
        return usable[0].name if usable else "template"

    def set_defaults(self, user: User, provider: str, model: str | None = None) -> None:
        """Admins choose the default provider ('auto' or a registered one) and model."""
        require(user, Role.ADMIN, "Setting the default copy provider")
        if provider != "auto":
            spec(provider)
        model = None if model is None else model.strip()
        if model is not None and len(model) > 100:
            raise UserInputError("A model name is at most 100 characters.")
        with self.store.session() as s:
            s.merge(MetaRow(key=DEFAULT_PROVIDER_KEY, value=provider))
            if model is not None:
                s.merge(MetaRow(key=DEFAULT_MODEL_KEY, value=model))
            audit.record(s, user, "copy.settings", provider, model=model)

    def choose(self, user: User, name: str | None = None) -> ProviderChoice:
        """The provider to use: `name`, else the default; refused when it cannot run."""
        require(user, Role.ANALYST, "Generating copy")
        name = name or self.default_provider()
        spec(name)
        choice = next(c for c in self.providers() if c.name == name)
        if choice.unavailable:
            raise UserInputError(f"The {choice.label} provider cannot run: {choice.unavailable}.")
        return choice

    # --- generation --------------------------------------------------------------------

    def generate(
        self, user: User, request: GenerationRequest, provider: str | None = None
    ) -> list[Stream]:
        """One stream per variant; nothing is sent until a stream is read."""
        choice = self.choose(user, provider)
        writer = spec(choice.name).factory(self.llm, choice.model)

        def cost(usage) -> float | None:
            if choice.offline:
                return 0.0
            return pricing.estimate(self.llm.prices, choice.model, usage)

        def done(draft: Draft | None, failure: BaseException | None) -> None:
            self._log(user, request, choice, draft, failure)

        return [
            Stream(
                writer.stream(request, index),
                index=index,
                provider=choice.name,
                model=choice.model,
                cost=cost,
                on_done=done,
            )
            for index in range(request.variants)
        ]

    def _log(
        self,
        user: User,
        request: GenerationRequest,
        choice: ProviderChoice,
        draft: Draft | None,
        failure: BaseException | None,
    ) -> None:
        try:
            with self.store.session() as s:
                s.add(
                    CopyGenerationRow(
                        actor=user.email,
                        provider=choice.name,
                        model=choice.model,
                        content_type=request.content_type.key,
                        prompt_tokens=draft.usage.prompt_tokens if draft else 0,
                        completion_tokens=draft.usage.completion_tokens if draft else 0,
                        cost_usd=draft.cost_usd if draft else None,
                        seconds=draft.seconds if draft else 0.0,
                        first_token_seconds=draft.first_token_seconds if draft else None,
                        ok=draft is not None,
                    )
                )
                audit.record(
                    s,
                    user,
                    "copy.generate",
                    request.content_type.key,
                    provider=choice.name,
                    model=choice.model,
                    ok=draft is not None,
                    error=type(failure).__name__ if failure else None,
                )
        except Exception:  # the copy is already on screen; a lost log line must not hide it
            log.exception("could not log a copy generation")

    # --- usage -------------------------------------------------------------------------

    def usage(self, user: User, days: int = 30) -> UsageSummary:
        """Generations, tokens and estimated spend per day over the last `days` days."""
        require(user, Role.VIEWER, "Reading copy usage")
        now = utcnow()
        since = now - timedelta(days=2 * days)
        with self.store.session() as s:
            rows = s.execute(
                select(
                    CopyGenerationRow.at,
                    CopyGenerationRow.provider,
                    CopyGenerationRow.prompt_tokens,
                    CopyGenerationRow.completion_tokens,
                    CopyGenerationRow.cost_usd,
                    CopyGenerationRow.ok,
                ).where(CopyGenerationRow.at >= since)
            ).all()
        frame = pd.DataFrame(
            [(as_utc(r[0]), *r[1:]) for r in rows],
            columns=["at", "provider", "prompt", "completion", "cost_usd", "ok"],
        )
        current_start = now - timedelta(days=days)
        current = frame[frame["at"] >= current_start] if len(frame) else frame
        previous = len(frame) - len(current)
        day_index = pd.date_range(
            (current_start + timedelta(days=1)).date(), now.date(), freq="D"
        ).date
        if len(current):
            grouped = current.assign(
                day=current["at"].dt.date,
                tokens=current["prompt"] + current["completion"],
                failures=~current["ok"].astype(bool),
            ).groupby("day")
            daily = pd.DataFrame(
                {
                    "generations": grouped.size(),
                    "tokens": grouped["tokens"].sum(),
                    "cost_usd": grouped["cost_usd"].sum(min_count=1),
                    "failures": grouped["failures"].sum(),
                }
            )
        else:
            daily = pd.DataFrame(columns=["generations", "tokens", "cost_usd", "failures"])
        daily = daily.reindex(day_index).rename_axis("day").reset_index()
        daily[["generations", "tokens", "failures"]] = (
            daily[["generations", "tokens", "failures"]].fillna(0).astype(int)
        )
        costs = current["cost_usd"].dropna() if len(current) else pd.Series(dtype=float)
        return UsageSummary(
            days=days,
            daily=daily,
            generations=len(current),
            previous_generations=previous,
            tokens=int((current["prompt"] + current["completion"]).sum()) if len(current) else 0,
            cost_usd=float(costs.sum()) if len(costs) else None,
            template_share=float((current["provider"] == "template").mean())
            if len(current)
            else None,
        )

    def check_connection(self, user: User) -> ConnectionCheck:
        """Ask the configured model server for a one-word reply and time it."""
        require(user, Role.ANALYST, "Checking the model server")
        from core.copy.openai_provider import OpenAIProvider, server_label

        model = self.model()
        reason = spec("openai").unavailable(self.llm, model)
        if reason:
            raise UserInputError(f"There is no model server to check: {reason}.")
        started = time.perf_counter()
        reply = OpenAIProvider(self.llm, model).ping()
        return ConnectionCheck(
            server_label(self.llm.base_url), model, time.perf_counter() - started, reply
        )


@dataclass(frozen=True, slots=True)
class ConnectionCheck:
    """What a connection check found: server, model, round trip and the model's reply."""

    server: str
    model: str
    seconds: float
    reply: str
