"""The fleet: cloud storage targets, edge devices and their heartbeats, API keys.

targets, providers, storage, s3_errors, cloud   S3-compatible targets and the work on them
devices, tokens, heartbeats, health, overview   the device registry and its status
service_accounts                                API keys and JWTs for automation
cli                                             `python -m core fleet ...`
"""
