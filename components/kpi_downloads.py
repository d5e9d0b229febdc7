"""Download buttons of the KPI page: tables as CSV and Excel, charts as HTML."""

from __future__ import annotations

import io

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.kpi_charts import figure_html
from core.data.export import FORMATS, frame_to_csv, neutralise_frame


def frame_to_xlsx(frame: pd.DataFrame) -> bytes:
    """A small table as an Excel workbook, text cells made formula-safe."""
    buffer = io.BytesIO()
    neutralise_frame(frame).to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()


def buttons(frame: pd.DataFrame, stem: str, *, key: str, figure: go.Figure | None = None) -> None:
    """CSV and Excel of `frame`, and HTML of `figure`, in one row."""
    with st.container(horizontal=True):
        st.download_button(
            "CSV",
            data=lambda: frame_to_csv(frame),
            file_name=f"{stem}.csv",
            mime="text/csv",
            key=f"{key}_csv",
            icon=":material/download:",
        )
        st.download_button(
            "Excel",
            data=lambda: frame_to_xlsx(frame),
            file_name=f"{stem}.xlsx",
            mime=FORMATS["xlsx"],
            key=f"{key}_xlsx",
            icon=":material/download:",
        )
        if figure is not None:
            st.download_button(
                "Chart (HTML)",
                data=lambda: figure_html(figure),
                file_name=f"{stem}.html",
                mime="text/html",
                key=f"{key}_html",
                icon=":material/download:",
            )
