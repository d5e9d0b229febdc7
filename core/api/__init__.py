"""Beacon's machine API: devices, automation and workflow webhooks over HTTP (FastAPI).

Served by uvicorn (`python -m core api`); it shares the store with the app and the
worker. Versioned under /v1, OpenAPI docs at /v1/docs.
"""
