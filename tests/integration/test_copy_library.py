"""The copy studio's store: voices, library, experiments and the usage log, on SQLite and
PostgreSQL (when BEACON_TEST_DATABASE_URL names a server), with roles and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import audit
from core.auth.roles import Role, User
from core.config import LlmSettings
from core.copy import experiment_store, library, voices
from core.copy.content_types import get
from core.copy.grounding import ProductFacts
from core.copy.models import CopyGenerationRow
from core.copy.providers import GenerationRequest
from core.copy.studio import CopyStudio
from core.errors import NotFound, PermissionDenied, UserInputError
from core.store import Store, open_store
from core.store.models import utcnow

SYSTEM = User.system()
ANALYST = User(id=2, email="ana@example.com", role=Role.ANALYST)
VIEWER = User(id=3, email="vic@example.com", role=Role.VIEWER)
ADMIN = User(id=4, email="ada@example.com", role=Role.ADMIN)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'copy.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    opened = open_store(url)
    yield opened
    opened.engine.dispose()


def save(store: Store, title: str, body: str, tags=(), kind: str = "email_subject", user=ANALYST):
    return library.save_item(
        store, user, title=title, content_type=kind, body=body, provider="template", tags=tags
    )


def test_items_keep_their_history_and_tags(store):
    item = save(store, "Spring subject", "Meet the Summit Tent", tags="Spring, email")
    assert item.revision == 1 and item.tags == ("email", "spring")
    edited = library.update_item(
        store, ANALYST, item.id, body="Say hello to the Summit Tent", note="warmer"
    )
    assert edited.revision == 2 and edited.body == "Say hello to the Summit Tent"
    same = library.update_item(store, ANALYST, item.id, body="Say hello to the Summit Tent")
    assert same.revision == 2  # nothing changed, no new revision
    restored = library.restore_revision(store, ANALYST, item.id, 1)
    assert restored.revision == 3 and restored.body == "Meet the Summit Tent"
    history = library.history(store, VIEWER, item.id)
    assert [(r.revision, r.note) for r in history] == [
        (3, "restored r1"),
        (2, "warmer"),
        (1, "created"),
    ]
    retagged = library.update_item(store, ANALYST, item.id, tags=["launch"])
    assert retagged.tags == ("launch",) and retagged.revision == 3
    actions = [e.action for e in audit.list_events(store, SYSTEM)]
    assert actions.count("copy.item.edit") == 3 and "copy.item.save" in actions


def test_search_by_words_type_and_tag_escapes_wildcards(store):
    save(store, "Tent subject", "50% off tents", tags="sale")
    save(store, "Boot subject", "New boots_in stock", tags="launch")
    save(store, "Tent SMS", "Tents are back", kind="sms", tags="sale")
    titles = lambda items: sorted(i.title for i in items)  # noqa: E731
    assert titles(library.search(store, VIEWER, text="TENT")) == ["Tent SMS", "Tent subject"]
    assert titles(library.search(store, VIEWER, text="50%")) == ["Tent subject"]
    assert titles(library.search(store, VIEWER, text="%")) == ["Tent subject"]
    assert titles(library.search(store, VIEWER, text="s_in")) == ["Boot subject"]
    assert titles(library.search(store, VIEWER, content_type="sms")) == ["Tent SMS"]
    assert titles(library.search(store, VIEWER, tag="sale")) == ["Tent SMS", "Tent subject"]
    assert library.tags_in_use(store, VIEWER) == [("sale", 2), ("launch", 1)]
    counts = library.counts(store, VIEWER)
    assert (counts.items, counts.added_recently, counts.added_before) == (3, 3, 0)


def test_exports_are_spreadsheet_safe_csv_and_markdown(store):
    save(store, "Formula", '=HYPERLINK("http://x")\nsecond line', tags="x")
    items = library.search(store, VIEWER)
    csv = library.export_csv(items).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv and "Email subject line" in csv
    md = library.export_markdown(items)
    assert md.startswith("# Copy library export\n\n## Formula\n")
    assert '> =HYPERLINK("http://x")\n> second line' in md


def test_roles_are_enforced_in_core(store):
    item = save(store, "T", "Body")
    with pytest.raises(PermissionDenied, match="Saving copy needs the analyst role"):
        save(store, "T", "Body", user=VIEWER)
    with pytest.raises(PermissionDenied):
        library.update_item(store, VIEWER, item.id, body="x")
    with pytest.raises(PermissionDenied):
        voices.save_voice(store, VIEWER, voices.sample_voice())
    with pytest.raises(PermissionDenied):
        CopyStudio(store, LlmSettings()).set_defaults(ANALYST, "template")
    assert library.get_item(store, VIEWER, item.id).title == "T"


def test_bad_input_says_what_to_fix(store):
    with pytest.raises(UserInputError, match="There is no text to save"):
        save(store, "T", "   ")
    with pytest.raises(UserInputError, match="Tag '#sale!'"):
        save(store, "T", "x", tags="#sale!")
    with pytest.raises(NotFound, match="No library item #999"):
        library.get_item(store, VIEWER, 999)


def test_voices_round_trip_and_are_audited(store):
    saved = voices.save_voice(store, ANALYST, voices.sample_voice())
    assert voices.get_voice(store, VIEWER, saved.name) == saved
    changed = voices.save_voice(
        store, ANALYST, voices.BrandVoice(name=saved.name, brand="Lumen", reading_grade=9.0)
    )
    assert changed.reading_grade == 9.0 and changed.banned == ()
    assert [v.name for v in voices.list_voices(store, VIEWER)] == [saved.name]
    voices.delete_voice(store, ANALYST, saved.name)
    with pytest.raises(NotFound):
        voices.get_voice(store, VIEWER, saved.name)
    actions = [e.action for e in audit.list_events(store, SYSTEM)]
    assert actions.count("copy.voice.save") == 2 and "copy.voice.delete" in actions


def test_experiment_counts_are_analysed_and_the_result_saved_with_the_content(store):
    a = save(store, "Subject A", "Meet the Summit Tent")
    b = save(store, "Subject B", "Your new tent is here")
    experiment_store.create_experiment(store, ANALYST, "Spring subject", [a.id, b.id])
    with pytest.raises(UserInputError, match="already an experiment named"):
        experiment_store.create_experiment(store, ANALYST, "Spring subject", [a.id, b.id])
    experiment, result = experiment_store.record_counts(
        store,
        ANALYST,
        "Spring subject",
        {
            a.id: {"impressions": 10_000, "clicks": 200, "conversions": 20},
            b.id: {"impressions": 10_000, "clicks": 300, "conversions": 31},
        },
    )
    assert result.winner == f"#{b.id} Subject B"
    assert experiment.winner_item_id == b.id
    stored = experiment_store.get_experiment(store, VIEWER, "Spring subject")
    assert stored.result["winner"] == f"#{b.id} Subject B"
    assert [x.name for x in experiment_store.experiments_for_item(store, VIEWER, a.id)] == [
        "Spring subject"
    ]
    with pytest.raises(UserInputError, match="more clicks than impressions"):
        experiment_store.record_counts(
            store, ANALYST, "Spring subject", {a.id: {"impressions": 1, "clicks": 2}}
        )


def test_counts_from_a_csv_upload(store):
    a = save(store, "A", "x")
    b = save(store, "B", "y")
    experiment = experiment_store.create_experiment(store, ANALYST, "Upload", [a.id, b.id])
    data = f'item_id,impressions,clicks,conversions\n{a.id},"1,000",40,4\n#{b.id},1000,55,6\n'
    assert experiment_store.parse_counts_csv(data.encode(), experiment) == {
        a.id: {"impressions": 1000, "clicks": 40, "conversions": 4},
        b.id: {"impressions": 1000, "clicks": 55, "conversions": 6},
    }
    by_label = f"label,clicks\n#{a.id} A,7\n".encode()
    assert experiment_store.parse_counts_csv(by_label, experiment) == {a.id: {"clicks": 7}}
    for bad, message in (
        (b"variant,clicks\nx,1\n", "needs an item_id"),
        (f"item_id,clicks\n{a.id},many\n".encode(), "Line 2: clicks must be a whole number"),
        (b"item_id,clicks\n999,1\n", "'999' is not a variant"),
    ):
        with pytest.raises(UserInputError, match=message):
            experiment_store.parse_counts_csv(bad, experiment)


def test_deleting_an_item_removes_it_from_experiments(store):
    a, b, c = (save(store, t, t) for t in "ABC")
    experiment_store.create_experiment(store, ANALYST, "Three", [a.id, b.id, c.id])
    library.delete_item(store, ANALYST, c.id)
    assert len(experiment_store.get_experiment(store, VIEWER, "Three").arms) == 2


def test_generation_is_logged_with_usage_and_defaults_are_admin_settings(store):
    studio = CopyStudio(store, LlmSettings())
    assert studio.default_provider() == "template"
    product = ProductFacts("Summit Tent", price=249.0)
    request = GenerationRequest(get("sms"), product, variants=2)
    streams = studio.generate(ANALYST, request)
    texts = [s.text() for s in streams]
    assert texts[0].startswith("Summit Tent, $249.00.") and texts[1] != texts[0]
    assert all(t.endswith("Reply STOP to opt out") for t in texts)
    usage = studio.usage(VIEWER, days=30)
    assert usage.generations == 2 and usage.template_share == 1.0 and usage.cost_usd == 0.0
    assert usage.daily["generations"].sum() == 2 and len(usage.daily) == 30
    # A generation 40 days ago counts in the window before.
    with store.session() as s:
        first = s.scalars(select(CopyGenerationRow.id).order_by(CopyGenerationRow.id)).first()
        s.execute(
            update(CopyGenerationRow)
            .where(CopyGenerationRow.id == first)
            .values(at=utcnow() - timedelta(days=40))
        )
    usage = studio.usage(VIEWER, days=30)
    assert (usage.generations, usage.previous_generations) == (1, 1)
    with pytest.raises(UserInputError, match="cannot run: no model is configured"):
        studio.generate(ANALYST, request, "openai")
    studio.set_defaults(ADMIN, "openai", "llama3")
    assert studio.model() == "llama3" and studio.configured_provider() == "openai"
    with pytest.raises(UserInputError, match="Unknown copy provider 'gpt'"):
        studio.set_defaults(ADMIN, "gpt")
    with pytest.raises(PermissionDenied):
        studio.generate(VIEWER, request)
    assert "copy.generate" in [e.action for e in audit.list_events(store, SYSTEM)]
