"""Download buttons for tables, with spreadsheet-safe exports."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data.export import frame_to_csv


def table_csv(frame: pd.DataFrame, filename: str, *, key: str, label: str = "CSV") -> None:
    """A download button for a small table as formula-safe CSV."""
    st.download_button(
        label,
        data=lambda: frame_to_csv(frame),
        file_name=filename,
        mime="text/csv",
        key=key,
        icon=":material/download:",
    )
