"""Edge models: package a Beacon-trained model (or an ONNX file) for devices and publish it."""

from __future__ import annotations

import streamlit as st

from components import (
    edge_models_registry,
    edge_models_results,
    edge_models_source,
    errors,
    session,
)
from components.resources import services
from core.auth.roles import Role
from core.fleet import model_registry, targets

user = session.require_role(Role.ADMIN, "The Edge models page")
svc = services()

st.title("Edge models")
st.caption(
    "Convert models Beacon trained (or an ONNX file) for edge devices: optimise, quantise "
    "where it helps, verify against the original, measure, and publish to a cloud target."
)

versions = model_registry.list_versions(svc.store, user)
cloud_targets = targets.list_targets(svc.store, user)
with st.container(horizontal=True):
    st.metric("Published versions", len(versions), border=True)
    st.metric("Models", len({v.name for v in versions}), border=True)
    st.metric(
        "Quantised (int8)",
        sum(v.quantized for v in versions),
        border=True,
        help="Published versions whose weights are int8",
    )
    st.metric("Cloud targets", len(cloud_targets), border=True, help="Where models are published")

package_tab, registry_tab = st.tabs(["Package", "Registry"])

with package_tab:
    request = edge_models_source.show(user)
    if request is not None:
        packaged = None
        working = "Packaging: convert, optimise, verify, measure…"
        with errors.shown(), st.status(working) as status:
            packaged = edge_models_source.package(user, request)
            status.update(label=f"Packaged {packaged.name}", state="complete", expanded=False)
        if packaged is not None:
            edge_models_results.show(packaged)
            st.subheader("Publish")
            edge_models_registry.publish_form(user, packaged, cloud_targets)

with registry_tab:
    edge_models_registry.show(versions)
