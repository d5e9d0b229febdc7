"""The content library: saved copy with its edit history, tags, search and exports."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from core import audit
from core.auth.roles import Role, User, require
from core.copy.content_types import CONTENT_TYPES
from core.copy.models import CopyItemRow, CopyRevisionRow, CopyTagRow
from core.data.export import frame_to_csv
from core.errors import NotFound, UserInputError
from core.store import Store
from core.store.models import as_utc, utcnow

MAX_BODY = 20_000
MAX_TAGS = 20
_TAG = re.compile(r"^[a-z0-9][a-z0-9 _\-]{0,49}$")


@dataclass(frozen=True, slots=True)
class LibraryItem:
    """A piece of saved copy as it is now."""

    id: int
    title: str
    content_type: str
    body: str
    revision: int
    voice: str | None
    provider: str
    model: str
    grounding: dict[str, Any]
    batch: str
    variant: int
    tags: tuple[str, ...]
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    @property
    def type_label(self) -> str:
        ct = CONTENT_TYPES.get(self.content_type)
        return ct.label if ct else self.content_type


@dataclass(frozen=True, slots=True)
class Revision:
    """One earlier (or the current) text of an item."""

    revision: int
    title: str
    body: str
    note: str
    edited_by: str
    edited_at: datetime


def split_tags(tags: str | Iterable[str]) -> tuple[str, ...]:
    """Comma-separated or listed tags, trimmed, lower-case, without repeats."""
    items = tags.split(",") if isinstance(tags, str) else list(tags)
    cleaned = tuple(
        dict.fromkeys(" ".join(str(t).split()).lower() for t in items if str(t).strip())
    )
    if len(cleaned) > MAX_TAGS:
        raise UserInputError(f"Use at most {MAX_TAGS} tags on one item.")
    for tag in cleaned:
        if not _TAG.match(tag):
            raise UserInputError(
                f"Tag {tag!r}: use up to 50 letters, digits, spaces, '-' or '_', "
                "starting with a letter or digit."
            )
    return cleaned


def _check_text(title: str, body: str) -> tuple[str, str]:
    title, body = " ".join(title.split()), body.strip()
    if not 1 <= len(title) <= 200:
        raise UserInputError("Give the item a title of 1-200 characters.")
    if not body:
        raise UserInputError("There is no text to save.")
    if len(body) > MAX_BODY:
        raise UserInputError(
            f"The text is {len(body):,} characters; the library keeps {MAX_BODY:,}."
        )
    return title, body


def _item(row: CopyItemRow) -> LibraryItem:
    return LibraryItem(
        id=row.id,
        title=row.title,
        content_type=row.content_type,
        body=row.body,
        revision=row.revision,
        voice=row.voice,
        provider=row.provider,
        model=row.model,
        grounding=dict(row.grounding or {}),
        batch=row.batch,
        variant=row.variant,
        tags=tuple(sorted(t.tag for t in row.tags)),
        created_by=row.created_by,
        created_at=as_utc(row.created_at),
        updated_by=row.updated_by,
        updated_at=as_utc(row.updated_at),
    )


def _row(session: Session, item_id: int) -> CopyItemRow:
    row = session.get(CopyItemRow, item_id)
    if row is None:
        raise NotFound(f"No library item #{item_id}.")
    return row


def save_item(
    store: Store,
    user: User,
    *,
    title: str,
    content_type: str,
    body: str,
    provider: str,
    model: str = "",
    voice: str | None = None,
    grounding: dict[str, Any] | None = None,
    tags: str | Iterable[str] = (),
    batch: str = "",
    variant: int = 0,
) -> LibraryItem:
    """Add a piece of copy to the library as revision 1."""
    require(user, Role.ANALYST, "Saving copy")
    title, body = _check_text(title, body)
    if content_type not in CONTENT_TYPES:
        raise UserInputError(f"Unknown content type {content_type!r}.")
    tag_list = split_tags(tags)
    with store.session() as s:
        row = CopyItemRow(
            title=title,
            content_type=content_type,
            body=body,
            revision=1,
            voice=voice,
            provider=provider,
            model=model[:100],
            grounding=grounding or {},
            batch=batch[:32],
            variant=variant,
            created_by=user.email,
            updated_by=user.email,
        )
        row.tags = [CopyTagRow(tag=t) for t in tag_list]
        row.revisions = [
            CopyRevisionRow(
                revision=1, title=title, body=body, note="created", edited_by=user.email
            )
        ]
        s.add(row)
        s.flush()
        audit.record(s, user, "copy.item.save", title[:300], item=row.id, type=content_type)
        return _item(row)


def update_item(
    store: Store,
    user: User,
    item_id: int,
    *,
    title: str | None = None,
    body: str | None = None,
    tags: str | Iterable[str] | None = None,
    note: str = "",
) -> LibraryItem:
    """Edit an item: a changed title or text becomes a new revision; tags are replaced."""
    require(user, Role.ANALYST, "Editing copy")
    with store.session() as s:
        row = _row(s, item_id)
        new_title, new_body = _check_text(
            row.title if title is None else title, row.body if body is None else body
        )
        changed = (new_title, new_body) != (row.title, row.body)
        if changed:
            row.revision += 1
            row.title, row.body = new_title, new_body
            row.revisions.append(
                CopyRevisionRow(
                    revision=row.revision,
                    title=new_title,
                    body=new_body,
                    note=note.strip()[:200] or "edited",
                    edited_by=user.email,
                )
            )
        if tags is not None:
            wanted = split_tags(tags)
            if wanted != tuple(t.tag for t in row.tags):
                row.tags = [CopyTagRow(tag=t) for t in wanted]
                changed = True
        if changed:
            row.updated_by, row.updated_at = user.email, utcnow()
            audit.record(
                s, user, "copy.item.edit", row.title[:300], item=row.id, revision=row.revision
            )
        s.flush()
        return _item(row)


def restore_revision(store: Store, user: User, item_id: int, revision: int) -> LibraryItem:
    """Make an earlier revision's text current again (as a new revision)."""
    require(user, Role.ANALYST, "Editing copy")
    with store.session() as s:
        old = next((r for r in _row(s, item_id).revisions if r.revision == revision), None)
        if old is None:
            raise NotFound(f"Library item #{item_id} has no revision {revision}.")
        title, body = old.title, old.body
    return update_item(store, user, item_id, title=title, body=body, note=f"restored r{revision}")


def get_item(store: Store, user: User, item_id: int) -> LibraryItem:
    """One library item."""
    require(user, Role.VIEWER, "Reading the content library")
    with store.session() as s:
        return _item(_row(s, item_id))


def history(store: Store, user: User, item_id: int) -> list[Revision]:
    """Every revision of an item, newest first."""
    require(user, Role.VIEWER, "Reading the content library")
    with store.session() as s:
        return [
            Revision(r.revision, r.title, r.body, r.note, r.edited_by, as_utc(r.edited_at))
            for r in reversed(_row(s, item_id).revisions)
        ]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(
    store: Store,
    user: User,
    *,
    text: str = "",
    content_type: str | None = None,
    tag: str | None = None,
    limit: int = 500,
) -> list[LibraryItem]:
    """Items whose title or text contains `text`, of a type, with a tag; newest first."""
    require(user, Role.VIEWER, "Reading the content library")
    query = (
        select(CopyItemRow)
        .options(selectinload(CopyItemRow.tags))
        .order_by(CopyItemRow.updated_at.desc(), CopyItemRow.id.desc())
        .limit(limit)
    )
    if text.strip():
        pattern = _like(text.strip().lower())
        query = query.where(
            or_(
                func.lower(CopyItemRow.title).like(pattern, escape="\\"),
                func.lower(CopyItemRow.body).like(pattern, escape="\\"),
            )
        )
    if content_type:
        query = query.where(CopyItemRow.content_type == content_type)
    if tag:
        query = query.where(
            CopyItemRow.id.in_(select(CopyTagRow.item_id).where(CopyTagRow.tag == tag.lower()))
        )
    with store.session() as s:
        return [_item(r) for r in s.scalars(query)]


def tags_in_use(store: Store, user: User) -> list[tuple[str, int]]:
    """Each tag and how many items carry it, most used first."""
    require(user, Role.VIEWER, "Reading the content library")
    query = (
        select(CopyTagRow.tag, func.count())
        .group_by(CopyTagRow.tag)
        .order_by(func.count().desc(), CopyTagRow.tag)
    )
    with store.session() as s:
        return [(tag, int(n)) for tag, n in s.execute(query)]


def delete_item(store: Store, user: User, item_id: int) -> None:
    """Remove an item, its history and its tags."""
    require(user, Role.ANALYST, "Deleting copy")
    with store.session() as s:
        row = _row(s, item_id)
        title = row.title
        s.delete(row)
        audit.record(s, user, "copy.item.delete", title[:300], item=item_id)


def items_frame(items: Sequence[LibraryItem]) -> pd.DataFrame:
    """Items as a table: id, title, type, text, tags, voice, provider, model, revision, when."""
    return pd.DataFrame(
        {
            "id": [i.id for i in items],
            "title": [i.title for i in items],
            "type": [i.type_label for i in items],
            "text": [i.body for i in items],
            "tags": [", ".join(i.tags) for i in items],
            "voice": [i.voice or "" for i in items],
            "provider": [i.provider for i in items],
            "model": [i.model for i in items],
            "revision": [i.revision for i in items],
            "updated_by": [i.updated_by for i in items],
            "updated_at": [i.updated_at for i in items],
        }
    )


def export_csv(items: Sequence[LibraryItem]) -> bytes:
    """Items as spreadsheet-safe CSV."""
    return frame_to_csv(items_frame(items))


def export_markdown(items: Sequence[LibraryItem]) -> str:
    """Items as a Markdown document: a heading and facts per item, the text quoted."""
    lines = ["# Copy library export", ""]
    for item in items:
        lines += [f"## {item.title}", ""]
        facts = [f"type: {item.type_label}", f"revision {item.revision}"]
        if item.tags:
            facts.append("tags: " + ", ".join(item.tags))
        if item.voice:
            facts.append(f"voice: {item.voice}")
        facts.append(f"by {item.provider}" + (f" ({item.model})" if item.model else ""))
        facts.append(f"updated {item.updated_at:%Y-%m-%d} by {item.updated_by}")
        lines += ["*" + " · ".join(facts) + "*", ""]
        lines += [("> " + line) if line else ">" for line in item.body.splitlines()] + [""]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class LibraryCounts:
    """How big the library is and how fast it grows."""

    items: int
    added_recently: int
    added_before: int
    days: int


def counts(store: Store, user: User, days: int = 30) -> LibraryCounts:
    """Items in the library, and items added in the last `days` days and the `days` before."""
    require(user, Role.VIEWER, "Reading the content library")
    now = utcnow()
    recent, before = now - timedelta(days=days), now - timedelta(days=2 * days)
    created = func.count().filter(CopyItemRow.created_at >= recent)
    earlier = func.count().filter(CopyItemRow.created_at >= before, CopyItemRow.created_at < recent)
    with store.session() as s:
        query = select(func.count(), created, earlier).select_from(CopyItemRow)
        total, new, old = s.execute(query).one()
    return LibraryCounts(int(total), int(new), int(old), days)
