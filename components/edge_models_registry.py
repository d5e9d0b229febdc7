"""Publishing a packaged model, and the registry of published versions with manifests."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import downloads, errors
from components.resources import services
from core.auth.roles import User
from core.fleet import model_registry
from core.fleet.packaging import PackagedModel
from core.fleet.targets import CloudTarget

ARCHITECTURES = ("x86_64", "aarch64", "armv7l")
PUBLISHED_KEY = "em_published"


def publish_form(user: User, packaged: PackagedModel, cloud_targets: list[CloudTarget]) -> None:
    """Name, target and architectures; publishes and reports the new version."""
    done = st.session_state.pop(PUBLISHED_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    if not cloud_targets:
        st.info(
            "No cloud targets yet: add one on the Fleet page (Cloud targets tab) to publish.",
            icon=":material/cloud_off:",
        )
        st.page_link("views/fleet.py", label="Open the Fleet page", icon=":material/cloud:")
        return
    with st.form("em_publish"):
        left, right = st.columns(2)
        name = left.text_input("Model name", value=packaged.name)
        target = right.selectbox(
            "Cloud target", [t.name for t in cloud_targets], help="Where devices download from"
        )
        archs = st.multiselect(
            "Target architectures",
            ARCHITECTURES,
            default=list(model_registry.DEFAULT_ARCHITECTURES),
            help="Written to the manifest; devices of other architectures are not offered it",
        )
        clicked = st.form_submit_button(
            "Publish", icon=":material/publish:", type="primary", disabled=not packaged.passed
        )
    if clicked:
        with errors.shown(), st.spinner("Uploading artifact and manifest…"):
            version = model_registry.publish(
                services(), user, packaged, target_name=target, name=name, architectures=archs
            )
            st.session_state[PUBLISHED_KEY] = (
                f"Published {version.label} to {version.target_name}: {version.artifact_key} "
                f"(sha256 {version.sha256[:12]}…)."
            )
            st.rerun()  # the registry and the cards above show the new version


def show(versions: list[model_registry.ModelVersion]) -> None:
    """The registry table, and one version's manifest to read and download."""
    if not versions:
        st.info("No model has been published yet: package one in the Package tab.")
        return
    table = pd.DataFrame(model_registry.versions_table(versions))
    st.dataframe(
        table.drop(columns=["sha256"]),
        hide_index=True,
        alt="Published model versions",
        column_config={"size_kb": st.column_config.NumberColumn("size (KB)", format="%.1f")},
    )
    downloads.table_csv(table, "beacon_model_registry.csv", key="em_registry_csv")
    by_label = {v.label: v for v in versions}
    label = st.selectbox("Version", list(by_label), key="em_manifest_version")
    chosen = by_label[label]
    st.download_button(
        "Manifest (JSON)",
        data=model_registry.manifest_bytes(chosen),
        file_name=f"{chosen.name}_v{chosen.version}_manifest.json",
        mime="application/json",
        icon=":material/download:",
        key="em_manifest_download",
    )
    st.json(model_registry.manifest(chosen), expanded=1)
