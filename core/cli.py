"""Beacon's command line: `python -m core COMMAND ...`.

Every command prints human-readable text, or JSON with --json. Bad input prints
`error: <what to fix>` to stderr and exits 2. The CLI acts as the system operator
(admin role): whoever can run it already controls the host.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.auth import users
from core.auth.roles import User
from core.data.catalog import Dataset
from core.data.ingest import DELIMITERS, ENCODINGS, ReadOptions
from core.errors import BeaconError, UserInputError
from core.services import Services, open_services

Handler = Callable[[argparse.Namespace, Services], Any]
COMMANDS: dict[str, Handler] = {}
# Feature packages add their commands here: each module has `register(add_command)`.
FEATURE_CLIS: tuple[str, ...] = (
    "core.kpis.cli",
    "core.segmentation.cli",
    "core.forecasting.cli",
    "core.supply_chain.cli",
    "core.fleet.cli",
    "core.api.cli",
    "core.copy.cli",
    "core.workflows.cli",
)


def _columns(dataset: Dataset) -> list[dict[str, Any]]:
    return [{"name": c.name, "type": c.type, "role": c.role} for c in dataset.columns]


def _dataset_json(dataset: Dataset) -> dict[str, Any]:
    return {
        "dataset": dataset.name,
        "version": dataset.version,
        "rows": dataset.rows,
        "columns": _columns(dataset),
    }


def emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    """Print `payload` as JSON with --json, else the human-readable `text`."""
    print(json.dumps(payload, default=str, indent=2) if args.json else text)


def cmd_ingest(args: argparse.Namespace, services: Services) -> None:
    options = ReadOptions(
        delimiter={"tab": "\t"}.get(args.delimiter, args.delimiter),
        header=not args.no_header,
        encoding=args.encoding,
        decimal=args.decimal,
        fill_short_rows=args.fill_short_rows,
        sheet=args.sheet,
    )
    dataset = services.catalog.ingest_file(
        User.system(), Path(args.file), name=args.name, options=options
    )
    emit(
        args,
        _dataset_json(dataset),
        f"{dataset.name} v{dataset.version}: {dataset.rows:,} rows, {len(dataset.columns)} columns",
    )


def cmd_datasets(args: argparse.Namespace, services: Services) -> None:
    catalog, system = services.catalog, User.system()
    if args.action == "list":
        found = catalog.datasets(system)
        payload = [
            {
                "dataset": d.name,
                "version": d.version,
                "versions": d.version_count,
                "rows": d.rows,
                "columns": len(d.columns),
                "updated_at": d.updated_at.isoformat(),
            }
            for d in found
        ]
        lines = [f"{d.name}\tv{d.version}\t{d.rows:,} rows" for d in found] or ["(no datasets)"]
        emit(args, payload, "\n".join(lines))
        return
    if not args.name:
        raise UserInputError(f"Name the dataset: python -m core datasets {args.action} NAME")
    if args.action == "show":
        dataset = catalog.get(system, args.name)
        payload = _dataset_json(dataset) | {
            "description": dataset.description,
            "versions": [
                {
                    "version": v.version,
                    "rows": v.rows,
                    "source": v.source_name,
                    "created_by": v.created_by,
                    "created_at": v.created_at.isoformat(),
                }
                for v in catalog.versions(system, args.name)
            ],
        }
        cols = "\n".join(f"  {c.name}\t{c.type}\t{c.role or ''}" for c in dataset.columns)
        emit(args, payload, f"{dataset.name} v{dataset.version}, {dataset.rows:,} rows\n{cols}")
    elif args.action == "delete":
        catalog.delete(system, args.name)
        emit(args, {"deleted": args.name}, f"deleted {args.name}")


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if os.environ.get("BEACON_ADMIN_PASSWORD"):
        return os.environ["BEACON_ADMIN_PASSWORD"]
    if not sys.stdin.isatty():
        raise UserInputError("Give the password with --password-stdin or BEACON_ADMIN_PASSWORD.")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise UserInputError("The two passwords differ.")
    return first


def cmd_users(args: argparse.Namespace, services: Services) -> None:
    if args.action == "create-admin":
        if not args.email:
            raise UserInputError("Give the admin's address: --email you@example.com")
        password = _read_password(args)
        if users.needs_first_admin(services.store):
            user = users.create_first_admin(services.store, args.email, password, args.name or "")
        else:
            user, _ = users.create_user(
                services.store,
                User.system(),
                args.email,
                users.Role.ADMIN,
                args.name or "",
                password=password,
            )
        emit(args, {"email": user.email, "role": user.role.label}, f"created admin {user.email}")


def cmd_sample(args: argparse.Namespace, services: Services) -> None:
    from core.data.samples import load_sample, sample_pending

    if args.if_empty and not sample_pending(services.catalog):
        emit(args, {"loaded": []}, "sample data already loaded or catalog not empty; skipped")
        return
    loaded = load_sample(services.catalog, User.system())
    emit(
        args,
        {"loaded": [_dataset_json(d) for d in loaded]},
        "\n".join(f"{d.name}: {d.rows:,} rows" for d in loaded),
    )


COMMANDS.update(ingest=cmd_ingest, datasets=cmd_datasets, users=cmd_users, sample=cmd_sample)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="python -m core", description="Beacon command line.")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--json", action="store_true", help="print JSON for automation")
        return p

    p = command("ingest", "add a CSV/TSV, Excel, Parquet or JSON-lines file to the catalog")
    p.add_argument("file")
    p.add_argument("--name", help="dataset name (default: from the file name)")
    p.add_argument("--delimiter", choices=[*DELIMITERS, "tab"], help="default: detect")
    p.add_argument("--encoding", choices=ENCODINGS, default="auto")
    p.add_argument("--decimal", choices=[".", ","], default=".")
    p.add_argument("--no-header", action="store_true", help="the first row is data")
    p.add_argument("--fill-short-rows", action="store_true", help="pad short rows with nulls")
    p.add_argument("--sheet", help="Excel sheet (default: the first)")

    p = command("datasets", "list, show or delete datasets")
    p.add_argument("action", choices=["list", "show", "delete"])
    p.add_argument("name", nargs="?")

    p = command("users", "manage accounts")
    p.add_argument("action", choices=["create-admin"])
    p.add_argument("--email")
    p.add_argument("--name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    p = command("sample", "load the sample company's datasets")
    p.add_argument("action", choices=["load"])
    p.add_argument("--if-empty", action="store_true", help="only on a fresh install")

    def add_command(name: str, help_text: str, handler: Handler) -> argparse.ArgumentParser:
        COMMANDS[name] = handler
        return command(name, help_text)

    for module in FEATURE_CLIS:
        importlib.import_module(module).register(add_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        services = open_services()
        COMMANDS[args.command](args, services)
    except BeaconError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
