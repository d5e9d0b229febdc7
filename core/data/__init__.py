"""Datasets: ingest, catalog of immutable Parquet versions, column roles, profiles, exports."""
