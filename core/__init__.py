"""Beacon's engine room: everything the pages do, without Streamlit."""
