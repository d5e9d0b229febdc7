"""`python -m core fleet ...`: cloud targets, devices and API keys from the command line.

    fleet secret-key                                    a new BEACON_SECRET_KEY value
    fleet targets list | add NAME ... | test NAME | remove NAME
    fleet targets browse NAME [PATH] | upload NAME FILE KEY | download NAME KEY FILE
    fleet targets import NAME KEY [--dataset D] | export NAME DATASET [--format F] [--key K]
    fleet targets link NAME KEY [--seconds S]
    fleet devices list | add NAME --kind KIND ... | show NAME | revoke NAME | retire NAME
    fleet devices reenrol NAME | tag NAME TAG...
    fleet keys list | add NAME --scope S... | revoke NAME

A failed connection test prints its result and exits with status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.auth.roles import User
from core.cli import emit
from core.errors import UserInputError
from core.fleet import devices, models_cli, rollouts_cli, service_accounts, targets
from core.fleet.cloud import EXPORT_FORMATS, Cloud
from core.fleet.overview import device_status
from core.fleet.providers import PROVIDERS
from core.fleet.tokens import TokenHasher
from core.secrets_box import SecretBox, new_key
from core.services import Services
from core.store.models import utcnow

Handler = Callable[[argparse.Namespace, Services], None]


def _target_json(t: targets.CloudTarget) -> dict[str, Any]:
    return {
        "name": t.name,
        "provider": t.provider,
        "endpoint_url": t.endpoint_url,
        "region": t.region,
        "bucket": t.bucket,
        "prefix": t.prefix,
        "addressing": t.addressing,
        "credentials": t.credentials,
        "profile": t.profile,
        "key": t.key_hint,
        "last_test_ok": t.last_test_ok,
        "last_test_message": t.last_test_message,
    }


def _device_json(d: devices.Device, services: Services) -> dict[str, Any]:
    interval = services.settings.fleet.heartbeat_seconds
    return {
        "name": d.name,
        "kind": d.kind,
        "arch": d.arch,
        "os": d.os,
        "tags": list(d.tags),
        "site": d.site,
        "lat": d.lat,
        "lon": d.lon,
        "status": d.status,
        "liveness": device_status(d, utcnow(), interval),
        "health": d.health,
        "last_seen_at": d.last_seen_at.isoformat() if d.last_seen_at else None,
        "heartbeats": d.heartbeat_count,
    }


def _secret_from_stdin(args: argparse.Namespace) -> str:
    if not args.secret_access_key_stdin:
        return ""
    secret = sys.stdin.readline().strip()
    if not secret:
        raise UserInputError("No secret access key on standard input.")
    return secret


def targets_cmd(args: argparse.Namespace, services: Services) -> None:
    system, store = User.system(), services.store
    cloud = Cloud(store, services.settings, services.catalog)
    action = args.action
    if action == "list":
        found = targets.list_targets(store, system)
        lines = [f"{t.name}\t{t.provider}\t{t.location}\t{t.credentials}" for t in found]
        emit(args, [_target_json(t) for t in found], "\n".join(lines) or "(no cloud targets)")
    elif action == "add":
        credentials = args.credentials or (
            "keys" if args.access_key_id else "profile" if args.profile else "chain"
        )
        spec = targets.TargetSpec(
            name=args.name,
            provider=args.provider,
            bucket=args.bucket,
            endpoint_url=args.endpoint or "",
            region=args.region or "",
            prefix=args.prefix or "",
            addressing=args.addressing,
            credentials=credentials,
            profile=args.profile or "",
            access_key_id=args.access_key_id or "",
            secret_access_key=_secret_from_stdin(args),
        )
        saved = targets.save_target(store, SecretBox.from_settings(services.settings), system, spec)
        emit(args, _target_json(saved), f"added {saved.name}: {saved.location}")
    elif action == "remove":
        targets.delete_target(store, system, args.name)
        emit(args, {"removed": args.name}, f"removed {args.name}")
    elif action == "test":
        check = cloud.test(system, args.name)
        payload = {
            "target": args.name,
            "ok": check.ok,
            "can_read": check.can_read,
            "can_write": check.can_write,
            "kind": check.kind,
            "message": check.message,
            "seconds": round(check.seconds, 3),
        }
        emit(args, payload, ("ok: " if check.ok else "failed: ") + check.message)
        if not check.ok:
            raise SystemExit(1)
    elif action == "browse":
        listing = cloud.open(system, args.name).browse(args.path or "")
        payload = {
            "path": listing.path,
            "prefixes": list(listing.prefixes),
            "objects": [
                {"key": o.key, "size": o.size, "modified": o.modified} for o in listing.objects
            ],
            "truncated": listing.truncated,
        }
        lines = [f"{p}" for p in listing.prefixes]
        lines += [f"{o.key}\t{o.size:,} bytes" for o in listing.objects]
        emit(args, payload, "\n".join(lines) or "(empty)")
    elif action == "upload":
        done = cloud.upload_artifact(system, args.name, Path(args.file), args.key)
        emit(args, _transfer(done), f"uploaded {done.key}: {done.bytes:,} bytes")
    elif action == "download":
        done = cloud.download_artifact(system, args.name, args.key, Path(args.file))
        emit(args, _transfer(done), f"downloaded {done.key}: {done.bytes:,} bytes")
    elif action == "import":
        dataset = cloud.import_object(system, args.name, args.key, dataset=args.dataset)
        payload = {"dataset": dataset.name, "version": dataset.version, "rows": dataset.rows}
        emit(args, payload, f"{dataset.name} v{dataset.version}: {dataset.rows:,} rows")
    elif action == "export":
        dataset = services.catalog.get(system, args.dataset)
        done = cloud.export_dataset(system, args.name, dataset, args.format, key=args.key)
        emit(args, _transfer(done), f"exported {dataset.name} to {done.key}")
    elif action == "link":
        url = cloud.open(system, args.name).presigned_url(args.key, args.seconds)
        emit(args, {"url": url, "seconds": args.seconds}, url)


def _transfer(done) -> dict[str, Any]:
    return {"key": done.key, "bytes": done.bytes, "seconds": round(done.seconds, 3)}


def devices_cmd(args: argparse.Namespace, services: Services) -> None:
    system, store = User.system(), services.store
    action = args.action
    if action == "list":
        found = devices.list_devices(store, system)
        rows = [_device_json(d, services) for d in found]
        lines = [f"{r['name']}\t{r['kind']}\t{r['liveness']}\t{r['health']}" for r in rows]
        emit(args, rows, "\n".join(lines) or "(no devices)")
        return
    if action == "show":
        row = _device_json(devices.get_device(store, system, args.name), services)
        emit(args, row, "\n".join(f"{k}\t{v}" for k, v in row.items()))
        return
    hasher = TokenHasher.for_store(store)
    if action in ("add", "reenrol"):
        if action == "add":
            spec = devices.DeviceSpec(
                name=args.name,
                kind=args.kind,
                arch=args.arch or "",
                os=args.os or "",
                tags=tuple(args.tag or ()),
                site=args.site or "",
                lat=args.lat,
                lon=args.lon,
                notes=args.notes or "",
            )
            enrolment = devices.add_device(store, hasher, system, spec)
        else:
            enrolment = devices.reissue_enrolment(store, hasher, system, args.name)
        payload = _device_json(enrolment.device, services) | {
            "enrolment_token": enrolment.token,
            "expires_at": enrolment.expires_at.isoformat(),
        }
        emit(
            args,
            payload,
            f"{enrolment.token}\n(one-time enrolment token for {enrolment.device.name}, "
            f"valid until {enrolment.expires_at:%Y-%m-%d %H:%M} UTC; it is not shown again)",
        )
    elif action == "revoke":
        found = devices.revoke(store, system, args.name)
        emit(args, _device_json(found, services), f"revoked {found.name}")
    elif action == "retire":
        found = devices.retire(store, system, args.name)
        emit(args, _device_json(found, services), f"retired {found.name}")
    elif action == "tag":
        found = devices.set_tags(store, system, args.name, args.tags)
        emit(args, _device_json(found, services), f"{found.name}: {', '.join(found.tags)}")


def keys_cmd(args: argparse.Namespace, services: Services) -> None:
    system, store = User.system(), services.store
    if args.action == "list":
        found = service_accounts.list_keys(store, system)
        rows = [
            {"name": k.name, "key": k.key_hint, "scopes": list(k.scopes), "active": k.active}
            for k in found
        ]
        lines = [f"{r['name']}\t{' '.join(r['scopes'])}\t{r['active']}" for r in rows]
        emit(args, rows, "\n".join(lines) or "(no API keys)")
    elif args.action == "add":
        account, key = service_accounts.create_key(
            store, TokenHasher.for_store(store), system, args.name, args.scope or ()
        )
        emit(
            args,
            {"name": account.name, "scopes": list(account.scopes), "api_key": key},
            f"{key}\n(API key for {account.name}; it is not shown again)",
        )
    elif args.action == "revoke":
        account = service_accounts.revoke_key(store, system, args.name)
        emit(args, {"name": account.name, "active": False}, f"revoked {account.name}")


def secret_key_cmd(args: argparse.Namespace, services: Services) -> None:
    key = new_key()
    emit(args, {"secret_key": key}, key)


def fleet_cmd(args: argparse.Namespace, services: Services) -> None:
    HANDLERS[args.area](args, services)


HANDLERS: dict[str, Handler] = {
    "targets": targets_cmd,
    "devices": devices_cmd,
    "keys": keys_cmd,
    "secret-key": secret_key_cmd,
    **rollouts_cli.HANDLERS,
    "models": models_cli.models_cmd,
}


def _leaf(sub, name: str, help_text: str) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text)
    # SUPPRESS: `--json` may come before or after the action without one undoing the other.
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    return parser


def _targets_parser(areas) -> None:
    p = areas.add_parser("targets", help="S3-compatible cloud targets")
    actions = p.add_subparsers(dest="action", required=True)
    _leaf(actions, "list", "list targets")
    add = _leaf(actions, "add", "add a target")
    add.add_argument("name")
    add.add_argument("--provider", required=True, choices=list(PROVIDERS))
    add.add_argument("--bucket", required=True)
    add.add_argument("--endpoint", help="endpoint URL (not needed for AWS)")
    add.add_argument("--region")
    add.add_argument("--prefix", help="key prefix Beacon works under")
    add.add_argument("--addressing", choices=list(targets.ADDRESSING), default="auto")
    add.add_argument("--credentials", choices=list(targets.CREDENTIAL_MODES))
    add.add_argument("--profile", help="AWS profile name (credentials: profile)")
    add.add_argument("--access-key-id", help="access key id (credentials: keys)")
    add.add_argument(
        "--secret-access-key-stdin",
        action="store_true",
        help="read the secret access key from standard input (never pass it as an argument)",
    )
    for name, text in (("test", "test the connection"), ("remove", "remove a target")):
        _leaf(actions, name, text).add_argument("name")
    browse = _leaf(actions, "browse", "list prefixes and objects")
    browse.add_argument("name")
    browse.add_argument("path", nargs="?")
    upload = _leaf(actions, "upload", "upload a file")
    upload.add_argument("name")
    upload.add_argument("file")
    upload.add_argument("key")
    download = _leaf(actions, "download", "download an object to a file")
    download.add_argument("name")
    download.add_argument("key")
    download.add_argument("file")
    imp = _leaf(actions, "import", "import an object as a dataset")
    imp.add_argument("name")
    imp.add_argument("key")
    imp.add_argument("--dataset", help="dataset name (default: from the object's name)")
    exp = _leaf(actions, "export", "export a dataset to the target")
    exp.add_argument("name")
    exp.add_argument("dataset")
    exp.add_argument("--format", choices=EXPORT_FORMATS, default="parquet")
    exp.add_argument("--key", help="object key (default: exports/NAME_vN.FORMAT)")
    link = _leaf(actions, "link", "a presigned download link")
    link.add_argument("name")
    link.add_argument("key")
    link.add_argument("--seconds", type=int, default=3600)


def _devices_parser(areas) -> None:
    p = areas.add_parser("devices", help="edge devices")
    actions = p.add_subparsers(dest="action", required=True)
    _leaf(actions, "list", "list devices")
    add = _leaf(actions, "add", "register a device; prints its one-time enrolment token")
    add.add_argument("name")
    add.add_argument("--kind", required=True, choices=list(devices.KINDS))
    add.add_argument("--arch")
    add.add_argument("--os")
    add.add_argument("--tag", action="append", help="repeat for several tags")
    add.add_argument("--site")
    add.add_argument("--lat", type=float)
    add.add_argument("--lon", type=float)
    add.add_argument("--notes")
    for name, text in (
        ("show", "show one device"),
        ("revoke", "revoke a device's credential"),
        ("retire", "retire a device"),
        ("reenrol", "issue a new enrolment token (the current credential stops)"),
    ):
        _leaf(actions, name, text).add_argument("name")
    tag = _leaf(actions, "tag", "replace a device's tags")
    tag.add_argument("name")
    tag.add_argument("tags", nargs="*")


def _keys_parser(areas) -> None:
    p = areas.add_parser("keys", help="API keys of service accounts")
    actions = p.add_subparsers(dest="action", required=True)
    _leaf(actions, "list", "list API keys")
    add = _leaf(actions, "add", "create an API key; prints it once")
    add.add_argument("name")
    add.add_argument("--scope", action="append", choices=list(service_accounts.SCOPES))
    _leaf(actions, "revoke", "revoke an API key").add_argument("name")


def register(add_command: Callable[..., Any]) -> None:
    """Add the `fleet` command and its sub-commands."""
    parser = add_command("fleet", "cloud targets, edge devices and API keys", fleet_cmd)
    areas = parser.add_subparsers(dest="area", required=True)
    _targets_parser(areas)
    _devices_parser(areas)
    _keys_parser(areas)
    _leaf(areas, "secret-key", "print a new key for BEACON_SECRET_KEY")
    rollouts_cli.register(areas, _leaf)
    models_cli.add_parser(areas, _leaf)
