"""Grounding on catalog datasets, and the `copy generate` / `copy score` commands."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from core.auth.roles import User
from core.cli import main
from core.copy import grounding
from core.copy.voices import sample_voice, save_voice
from core.errors import NotFound, UserInputError

PRODUCTS = pd.DataFrame(
    {
        "sku": ["CMP-0001", "CMP-0002", "APP-0001"],
        "product_name": ["Summit Tent", "Ridge Lantern", "Trail Hoodie"],
        "category": ["Camping", "Camping", "Apparel"],
        "unit_price": [249.0, 35.5, 48.99],
        "unit_cost": [120.0, 12.0, 20.0],
        "supplier_id": ["S1", "S2", "S3"],
        "weight_kg": [2.1, 0.4, 0.6],
        "colour": ["moss", "amber", None],
    }
)
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": [f"C{i}" for i in range(10)],
        "region": ["North"] * 6 + ["South"] * 4,
        "customer_type": ["Consumer"] * 8 + ["Business"] * 2,
    }
)


@pytest.fixture
def catalog(services):
    system = User.system()
    services.catalog.ingest_frame(system, PRODUCTS, "products", "test")
    services.catalog.ingest_frame(system, CUSTOMERS, "customers", "test")
    return services.catalog


@pytest.fixture
def con(catalog):
    connection = catalog.connect()
    yield connection
    connection.close()


def test_product_facts_leave_out_costs_suppliers_and_ids(catalog, con):
    dataset = catalog.get(User.system(), "products")
    options = grounding.product_options(con, dataset)
    assert options["label"].tolist() == [
        "Ridge Lantern (CMP-0002)",
        "Summit Tent (CMP-0001)",
        "Trail Hoodie (APP-0001)",
    ]
    facts = grounding.product_facts(con, dataset, "CMP-0001")
    assert (facts.name, facts.sku, facts.category, facts.price) == (
        "Summit Tent",
        "CMP-0001",
        "Camping",
        249.0,
    )
    assert facts.attributes == (("Weight (kg)", "2.1 kg"), ("Colour", "moss"))
    assert facts.features() == ["weight 2.1 kg", "colour moss"]
    assert grounding.product_facts(con, dataset, "APP-0001").attributes == (
        ("Weight (kg)", "0.6 kg"),
    )
    with pytest.raises(NotFound, match="No product 'NOPE' in products"):
        grounding.product_facts(con, dataset, "NOPE")


def test_find_product_by_sku_or_name_with_suggestions(catalog, con):
    dataset = catalog.get(User.system(), "products")
    assert grounding.find_product(con, dataset, "cmp-0002").name == "Ridge Lantern"
    assert grounding.find_product(con, dataset, "summit tent").sku == "CMP-0001"
    with pytest.raises(NotFound, match="Did you mean 'Summit Tent \\(CMP-0001\\)'"):
        grounding.find_product(con, dataset, "Sumit Tent")


def test_a_dataset_without_product_roles_says_which_role_to_set(catalog, con):
    dataset = catalog.get(User.system(), "customers")
    with pytest.raises(UserInputError, match="no column with the Product or SKU role"):
        grounding.product_options(con, dataset)


def test_customer_groups_become_audiences_with_their_facts(catalog, con):
    dataset = catalog.get(User.system(), "customers")
    assert grounding.audience_columns(con, dataset) == {
        "region": ["North", "South"],
        "customer_type": ["Business", "Consumer"],
    }
    audience = grounding.audience_from_group(con, dataset, "region", "South")
    assert audience.name == "South customers"
    assert audience.facts == (
        "4 customers (40% of all in customers)",
        "50% have customer type Business",  # a tie: the first alphabetically
    )
    with pytest.raises(NotFound):
        grounding.audience_from_group(con, dataset, "region", "West")


def test_segment_profiles_and_descriptions_become_audiences():
    audience = grounding.audience_from_segment(
        {"segment": 2, "name": "Loyal", "customers": 412, "recency_days": 35.2,
         "frequency": 4.25, "monetary": 812.4}
    )  # fmt: skip
    assert audience.name == "Loyal"
    assert audience.facts == (
        "412 customers",
        "last bought 35 days ago on average",
        "4.2 orders each on average",
        "$812 spent each on average",
    )
    assert grounding.audience_from_text("  ") == grounding.NO_AUDIENCE
    with pytest.raises(UserInputError):
        grounding.audience_from_text("x" * 101)


def run_cli(capsys, *args: str) -> tuple[int, dict | str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if "--json" in args and code == 0 else out), err


def test_cli_generate_writes_scored_template_variants_and_saves_them(catalog, capsys):
    code, payload, _ = run_cli(
        capsys, "copy", "generate", "--type", "google_ads_headline", "--product", "CMP-0001",
        "--variants", "3", "--keyword", "tent", "--save", "--tags", "cli", "--json",
    )  # fmt: skip
    assert code == 0
    assert payload["provider"] == "template" and payload["from_template"] is True
    assert payload["product"]["name"] == "Summit Tent"
    assert payload["product"]["source"] == "products v1"
    variants = payload["variants"]
    assert [v["variant"] for v in variants] == [1, 2, 3]
    assert all(len(v["text"]) <= 30 for v in variants)
    assert all({c["check"] for c in v["scores"]["checks"]} >= {"length"} for v in variants)
    assert [v["saved_id"] for v in variants] == [1, 2, 3]
    code, text, _ = run_cli(
        capsys, "copy", "generate", "--type", "sms", "--product", "Ridge Lantern"
    )
    assert code == 0 and "offline template output (no language model)" in text


def test_cli_generate_with_a_voice_and_bad_input(catalog, services, capsys):
    save_voice(services.store, User.system(), sample_voice())
    code, payload, _ = run_cli(
        capsys, "copy", "generate", "--type", "email_body", "--product", "APP-0001",
        "--voice", "Lumen Goods everyday", "--json",
    )  # fmt: skip
    assert code == 0 and payload["voice"] == "Lumen Goods everyday"
    assert "Lumen Goods" in payload["variants"][0]["text"]
    for args, message in (
        (["--type", "tweet", "--product", "x"], "Unknown content type 'tweet'"),
        (["--type", "sms", "--product", "Sumit Tent"], "Did you mean"),
        (["--type", "sms", "--product", "CMP-0001", "--variants", "11"], "1-10 variants"),
        (["--type", "sms", "--product", "CMP-0001", "--provider", "openai"], "cannot run"),
        (["--type", "sms", "--product", "x", "--voice", "nobody"], "No brand voice named"),
    ):
        code, _, err = run_cli(capsys, "copy", "generate", *args)
        assert code == 2 and err.startswith("error: ") and message in err, err


def test_cli_score_reads_a_file_or_stdin(tmp_path, capsys, monkeypatch, services):
    draft = tmp_path / "draft.txt"
    draft.write_text("The cat sat on the mat.", encoding="utf-8")
    code, payload, _ = run_cli(capsys, "copy", "score", str(draft), "--type", "sms", "--json")
    assert code == 0
    assert payload["words"] == 6 and payload["flesch_reading_ease"] == pytest.approx(116.15)
    assert [c["check"] for c in payload["checks"]] == ["length", "sms_encoding"]
    monkeypatch.setattr("sys.stdin", io.StringIO("Great tents! 🏕"))
    code, text, _ = run_cli(capsys, "copy", "score", "-", "--type", "sms")
    assert code == 0 and "sentiment: Positive" in text and "[warn] SMS encoding" in text
    code, _, err = run_cli(capsys, "copy", "score", str(tmp_path / "missing.txt"))
    assert code == 2 and "error: There is no file at" in err


def test_segments_of_saved_segmentation_runs_become_audiences(catalog, services):
    from datetime import date

    from core.segmentation.models import SegmentationRunRow

    dataset = catalog.get(User.system(), "customers")
    summary = {
        "segments": [
            {"segment": "Champions", "customers": 120, "recency_days": 12.4, "frequency": 8.1,
             "monetary": 940.0},
            {"segment": "Hibernating", "customers": 0, "recency_days": None},
        ]
    }  # fmt: skip
    with services.store.session() as s:
        s.add(
            SegmentationRunRow(
                dataset_id=dataset.id, dataset_version=1, name="Spring", as_of=date(2026, 3, 1),
                k=4, params={}, summary=summary, created_by="ana@example.com",
            )
        )  # fmt: skip
    found = grounding.saved_segments(services.store, User.system())
    assert list(found) == ["Spring: Champions"]  # empty segments are left out
    audience = found["Spring: Champions"]
    assert audience.facts == (
        "120 customers",
        "last bought 12 days ago on average",
        "8.1 orders each on average",
        "$940 spent each on average",
    )
    assert audience.source == "segmentation run Spring (customers)"


def test_the_page_cli_and_workflow_step_pick_the_same_products_dataset(services):
    from core.copy.batches import product_dataset
    from core.data.samples import load_sample

    system = User.system()
    with pytest.raises(UserInputError, match="No dataset has a Product or SKU column"):
        product_dataset(services, system)
    assert grounding.best_product_dataset(services.catalog.datasets(system)) is None
    load_sample(services.catalog, system)  # orders also name products and prices
    best = grounding.best_product_dataset(services.catalog.datasets(system))
    assert best.name == product_dataset(services, system) == "sample_products"
