"""The generate-copy step writes scored copy for a product through the copy studio."""

from __future__ import annotations

import pytest

from core.auth.roles import User
from core.copy import library
from core.errors import UserInputError
from core.workflows.tasks.base import StepContext, task_type

SYSTEM = User.system()


def run(services, **params):
    ctx = StepContext(
        services=services, user=SYSTEM, workflow="weekly-copy", run_id=7, step_id="s", attempt=1
    )
    task = task_type("generate_copy")
    return task.run(ctx, task.params.model_validate(params))


@pytest.fixture
def products(services, write_file):
    services.catalog.ingest_file(
        SYSTEM,
        write_file(
            "products.csv",
            "sku,product_name,category,unit_price\n"
            "OUT-1,Trail Daypack,Outdoor Gear,59.0\nFTW-2,Drift Clog,Footwear,35.5\n",
        ),
    )


def test_template_copy_is_generated_scored_and_saved(services, products):
    out = run(
        services,
        content_type="sms",
        product="OUT-1",
        dataset="products",
        variants=2,
        provider="template",
        save=True,
    )
    assert (out["type"], out["provider"], out["from_template"]) == ("sms", "template", True)
    assert out["product"]["name"] == "Trail Daypack"
    assert [v["variant"] for v in out["variants"]] == [1, 2]
    for variant in out["variants"]:
        assert variant["text"].strip()
        assert "scores" in variant and variant["saved_id"]
    saved = library.search(services.store, SYSTEM)
    assert len(saved) == 2


def test_unknown_product_or_type_is_one_clear_error(services, products):
    with pytest.raises(UserInputError):
        run(services, content_type="sms", product="NOPE", dataset="products", provider="template")
    with pytest.raises(UserInputError):
        run(services, content_type="poem", product="OUT-1", dataset="products")
