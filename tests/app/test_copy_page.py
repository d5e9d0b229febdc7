"""The Copy studio page: template mode on the sample company, and a real model server."""

from __future__ import annotations

import pytest

from core.auth.roles import Role, User
from core.config import load_settings
from core.copy import experiment_store, library, voices
from core.copy.studio import CopyStudio
from core.data.samples import load_sample
from core.services import open_services
from tests.app.conftest import click, metrics, texts
from tests.integration.test_copy_llm_server import KEY, MODEL, REPLY, LoopbackLLM

PAGE = "views/copy_studio.py"


@pytest.fixture(autouse=True)
def no_sdk_environment(monkeypatch):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sample(services):
    load_sample(services.catalog, User.system())
    return services


def store():
    return open_services(load_settings()).store


def plain(values: list[str]) -> list[str]:
    """Texts the page escaped for Markdown (model and user text), as the reader sees them."""
    return [v.replace("\\", "") for v in values]


def variant_texts(at) -> list[str]:
    return [t.value for t in at.text_area if t.label.startswith("Variant ")]


def generate(at):
    at.tabs  # noqa: B018 - tabs render their bodies every run
    return click(at, "Generate")


def test_viewer_reads_the_library_but_cannot_generate(app_as, sample):
    at = app_as(Role.VIEWER, PAGE)
    assert not at.exception and not at.error
    assert [t.value for t in at.title] == ["Copy studio"]
    assert "Generate" not in [t.label for t in at.tabs]
    assert {"Library items", "Generations, 30 days", "Default writer"} <= set(metrics(at))
    assert metrics(at)["Default writer"] == "Offline templates"
    assert any("offline templates" in t for t in texts(at.info))
    assert "Generate" not in [b.label for b in at.button]


def test_template_mode_streams_scores_and_saves_variants(app_as, sample):
    at = app_as(Role.ANALYST, PAGE)
    assert not at.exception
    # The picker starts on the sample company's product table, not the first dataset.
    assert at.selectbox(key="copy_dataset").value == "sample_products"
    assert any("Template output: written offline" in t for t in texts(at.info))
    at.selectbox(key="copy_type").select("google_ads_headline").run()
    at = generate(at)
    assert not at.exception and not at.error
    shown = variant_texts(at)
    assert len(shown) == 3 and len(set(shown)) == 3
    assert all(0 < len(t) <= 30 for t in shown)
    assert any("3 variant(s) from offline templates" in h.value for h in at.subheader)
    assert metrics(at)["Generations, 30 days"] == "3"
    assert "Checks passed" in metrics(at)
    # Edit the first variant and save it to the library with tags.
    area = next(t for t in at.text_area if t.label == "Variant 1")
    area.set_value("Summit tents, half price").run()
    at.text_input(key=next(k for k in at.session_state if k.startswith("copy_gen_tags_")
                           and k.endswith("_1"))).input("spring, ads")  # fmt: skip
    at.run()
    save = next(b for b in at.button if b.label == "Save to library")
    save.click().run()
    assert not at.exception and not at.error
    items = library.search(store(), User.system())
    assert [(i.body, i.tags, i.provider) for i in items] == [
        ("Summit tents, half price", ("ads", "spring"), "template")
    ]


def test_library_edit_history_and_experiment_flow(app_as, sample):
    st_store = store()
    system = User.system()
    a, b = (
        library.save_item(st_store, system, title=title, content_type="email_subject",
                          body=body, provider="template")
        for title, body in (("Subject A", "Meet the Summit Tent"),
                            ("Subject B", "Your new tent is here"))
    )  # fmt: skip
    at = app_as(Role.ANALYST, PAGE)
    at.tabs  # noqa: B018
    assert at.selectbox(key="copy_library_open").value == b.id  # newest first
    at.selectbox(key="copy_library_open").select(a.id).run()
    body = next(t for t in at.text_area if t.label == "Text")
    body.set_value("Meet the new Summit Tent").run()
    at = click(at, "Save changes")
    assert not at.error
    assert library.get_item(st_store, system, a.id).revision == 2

    experiment_store.create_experiment(st_store, system, "Spring subject", [a.id, b.id])
    at.run()
    assert at.selectbox(key="copy_exp_open").value == "Spring subject"
    assert any("No winner yet: record impressions" in t for t in plain(texts(at.info)))
    editor_key = next(k for k in at.session_state if k.startswith("copy_exp_counts_"))
    at.session_state[editor_key] = {
        "edited_rows": {
            0: {"impressions": 10000, "clicks": 200},
            1: {"impressions": 10000, "clicks": 300},
        },
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at = click(at, "Save counts")
    assert not at.exception and not at.error
    assert any(f"#{b.id} Subject B wins" in s for s in plain(texts(at.success)))
    saved = experiment_store.get_experiment(st_store, system, "Spring subject")
    assert saved.winner_item_id == b.id


def test_brand_voice_from_the_sample_and_scoring_any_text(app_as, sample):
    at = app_as(Role.ANALYST, PAGE)
    at.tabs  # noqa: B018
    at = click(at, "Add the sample company's voice")
    assert [v.name for v in voices.list_voices(store(), User.system())] == ["Lumen Goods everyday"]
    at.selectbox(key="copy_voice").select("Lumen Goods everyday").run()
    at.text_area(key="copy_score_text").input("This cheap tent is world-class!").run()
    assert not at.exception
    tables = [d.value for d in at.dataframe if "why" in d.value.columns]
    assert len(tables) == 1
    checks = tables[0]
    banned = checks[checks["check"] == "Banned words"]
    assert banned["status"].tolist() == ["fail"]
    assert "'cheap', 'world-class'" in banned["why"].iloc[0]


def test_admin_sets_the_default_writer(app_as, sample):
    at = app_as(Role.ADMIN, PAGE)
    at.tabs  # noqa: B018
    model = next(t for t in at.text_input if t.label == "Model")
    model.input("llama3.1")
    at = click(at, "Save defaults")
    assert not at.error
    assert metrics(at)["Default writer"] == "Offline templates"  # auto: no server configured
    assert CopyStudio(store(), load_settings().llm).model() == "llama3.1"


@pytest.fixture
def llm():
    server = LoopbackLLM().start()
    yield server
    server.stop()


def test_server_mode_streams_from_the_model_over_http(app_as, sample, llm, monkeypatch):
    monkeypatch.setenv("BEACON_LLM_MODEL", MODEL)
    monkeypatch.setenv("BEACON_LLM_BASE_URL", llm.base_url)
    monkeypatch.setenv("BEACON_LLM_API_KEY", KEY)
    monkeypatch.setenv("BEACON_LLM_PRICES", f"{MODEL}=1/2")
    at = app_as(Role.ANALYST, PAGE)
    assert metrics(at)["Default writer"] == MODEL
    assert not any("Template output" in t for t in texts(at.info))
    at.slider(key="copy_gen_variants").set_value(2).run()
    at = generate(at)
    assert not at.exception and not at.error
    assert variant_texts(at) == [REPLY, REPLY]
    assert len(llm.requests) == 2
    assert any(f"2 variant(s) from model {MODEL}" in h.value for h in at.subheader)
    assert any("tokens" in c.value and "$0.0" in c.value for c in at.caption)
    assert metrics(at)["Estimated spend, 30 days"].startswith("$")


def test_server_errors_are_one_line_without_the_key(app_as, sample, llm, monkeypatch):
    monkeypatch.setenv("BEACON_LLM_MODEL", MODEL)
    monkeypatch.setenv("BEACON_LLM_BASE_URL", llm.base_url)
    monkeypatch.setenv("BEACON_LLM_API_KEY", KEY)
    monkeypatch.setenv("BEACON_LLM_MAX_RETRIES", "0")
    at = app_as(Role.ANALYST, PAGE)
    llm.script.extend(["401"] * 3)
    at = generate(at)
    assert not at.exception
    errors = texts(at.error)
    assert errors == [
        f"The model server at {llm.base_url} refused the API key (401): "
        "check OPENAI_API_KEY or BEACON_LLM_API_KEY."
    ]
    assert KEY not in " ".join(errors)
