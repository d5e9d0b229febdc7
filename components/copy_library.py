"""The copy studio's Library tab: search, exports, one item's text, history and results."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import copy_charts, copy_text, errors
from core.auth.roles import Role, User
from core.copy import experiment_store, library, scoring
from core.copy.content_types import CONTENT_TYPES
from core.store import Store

ALL = "All"


def _filters(user: User, store: Store, *, key: str) -> tuple[str, str | None, str | None]:
    tags = [t for t, _ in library.tags_in_use(store, user)]
    types = {ALL: ALL} | {k: ct.label for k, ct in CONTENT_TYPES.items()}
    with st.container(horizontal=True, vertical_alignment="bottom"):
        text = st.text_input("Search", key=f"{key}_search", placeholder="words in title or text")
        kind = st.selectbox("Type", list(types), format_func=types.get, key=f"{key}_type")
        tag = st.selectbox("Tag", [ALL, *tags], key=f"{key}_tag")
    return text, None if kind == ALL else kind, None if tag == ALL else tag


def _history(user: User, store: Store, item: library.LibraryItem, *, key: str) -> None:
    revisions = library.history(store, user, item.id)
    st.dataframe(
        pd.DataFrame(
            {
                "revision": [r.revision for r in revisions],
                "note": [r.note for r in revisions],
                "by": [r.edited_by for r in revisions],
                "at": [r.edited_at for r in revisions],
                "text": [r.body for r in revisions],
            }
        ),
        hide_index=True,
        key=f"{key}_history_{item.id}",
        alt=f"Revisions of item {item.id}",
    )
    older = [r.revision for r in revisions if r.revision != item.revision]
    if user.can(Role.ANALYST) and older:
        with st.container(horizontal=True, vertical_alignment="bottom"):
            chosen = st.selectbox("Revision", older, key=f"{key}_restore_to_{item.id}")
            if st.button("Restore this revision", key=f"{key}_restore_{item.id}"):
                with errors.shown():
                    library.restore_revision(store, user, item.id, int(chosen))
                    st.toast(f"Restored revision {chosen} as a new revision.")
                    st.rerun()


def _results(user: User, store: Store, item: library.LibraryItem) -> None:
    found = experiment_store.experiments_for_item(store, user, item.id)
    if not found:
        st.caption("Not in any experiment yet.")
        return
    for experiment in found:
        arm = next(a for a in experiment.arms if a.item_id == item.id)
        result = next(
            (a for a in experiment.result.get("arms", []) if a["label"] == arm.label), None
        )
        rate = result["rate"] if result else None
        st.text(
            f"{experiment.name}: "
            + ("no data yet" if rate is None else f"{100 * rate:.2f}% {experiment.metric}")
            + (" · winner" if experiment.winner_item_id == item.id else "")
            + f" · {experiment.result.get('verdict', '')}"
        )


def _detail(user: User, store: Store, item: library.LibraryItem, *, key: str) -> None:
    editable = user.can(Role.ANALYST)
    st.caption(
        copy_text.literal(
            f"{item.type_label} · revision {item.revision} · by {item.provider}"
            f"{' (' + item.model + ')' if item.model else ''} · updated "
            f"{item.updated_at:%Y-%m-%d %H:%M} by {item.updated_by}"
        )
    )
    title = st.text_input(
        "Title",
        value=item.title,
        key=f"{key}_title_{item.id}_{item.revision}",
        disabled=not editable,
    )
    body = st.text_area(
        "Text",
        value=item.body,
        key=f"{key}_body_{item.id}_{item.revision}",
        height=180,
        disabled=not editable,
    )
    tags = st.text_input(
        "Tags",
        value=", ".join(item.tags),
        disabled=not editable,
        key=f"{key}_tags_{item.id}_{item.revision}",
    )
    ct = CONTENT_TYPES.get(item.content_type)
    copy_text.show_scores(
        scoring.score_text(body, ct, None, item.grounding.get("keyword", "")),
        key=f"{key}_score_{item.id}",
    )
    if editable:
        with st.container(horizontal=True, vertical_alignment="bottom"):
            note = st.text_input("Change note", key=f"{key}_note_{item.id}", placeholder="optional")
            if st.button("Save changes", type="primary", key=f"{key}_update_{item.id}"):
                with errors.shown():
                    library.update_item(
                        store, user, item.id, title=title, body=body, tags=tags, note=note
                    )
                    st.toast("Saved.")
                    st.rerun()
    with st.expander("History"):
        _history(user, store, item, key=key)
    with st.expander("Experiment results"):
        _results(user, store, item)
    if editable:
        with st.expander("Delete this item"):
            if st.button("Delete item", key=f"{key}_delete_{item.id}"):
                with errors.shown():
                    library.delete_item(store, user, item.id)
                    st.toast(f"Deleted item #{item.id}.")
                    st.rerun()


def show(user: User, store: Store, *, key: str = "copy_library") -> None:
    """Search the library, export what is found, open one item."""
    text, kind, tag = _filters(user, store, key=key)
    items = library.search(store, user, text=text, content_type=kind, tag=tag)
    if not items:
        st.info("No saved copy matches. Generate some and save it to the library.")
        return
    frame = library.items_frame(items)
    mix = frame.groupby("type").size().rename("items").reset_index()
    left, right = st.columns([3, 2])
    with left:
        st.dataframe(
            frame.drop(columns=["model", "updated_by"]),
            hide_index=True,
            key=f"{key}_table",
            alt="Library items",
            column_config={"text": st.column_config.TextColumn("Text", width="large")},
        )
        with st.container(horizontal=True):
            st.download_button(
                "Export CSV",
                data=lambda: library.export_csv(items),
                file_name="copy_library.csv",
                mime="text/csv",
                key=f"{key}_csv",
                icon=":material/download:",
            )
            st.download_button(
                "Export Markdown",
                data=lambda: library.export_markdown(items),
                file_name="copy_library.md",
                mime="text/markdown",
                key=f"{key}_md",
                icon=":material/download:",
            )
    right.plotly_chart(copy_charts.library_mix(mix), key=f"{key}_mix")
    labels = {i.id: f"#{i.id} {i.title}" for i in items}
    chosen = st.selectbox("Open item", list(labels), format_func=labels.get, key=f"{key}_open")
    _detail(user, store, next(i for i in items if i.id == chosen), key=key)
