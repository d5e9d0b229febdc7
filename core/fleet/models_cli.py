"""`python -m core fleet models ...`: package, verify and publish edge models; list the registry.

    fleet models package SOURCE [--out FILE.onnx] [--tolerance X] [--min-agreement Y]
    fleet models verify SOURCE [--tolerance X] [--min-agreement Y]     (exit 1 if outside)
    fleet models publish SOURCE --target T [--name N] [--arch A ...]
    fleet models list [--name N]

SOURCE is one of: --segments RUN [--classifier logistic|tree|mlp];
--forecast DATASET [--id-col C] [--date-col C] [--value-col C] [--freq F] [--agg A]
[--horizon H]; --forecast-run RUN; --onnx FILE.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.auth.roles import User
from core.cli import emit
from core.errors import UserInputError
from core.services import Services


def _package(args: argparse.Namespace, services: Services):
    from core.fleet import packaging, trained
    from core.fleet.verify import Tolerance

    system = User.system()
    tolerance = Tolerance(max_relative=args.tolerance, min_agreement=args.min_agreement)
    if args.onnx:
        path = Path(args.onnx)
        if not path.is_file():
            raise UserInputError(f"There is no file at {path.name}.")
        if path.stat().st_size > packaging.MAX_UPLOAD_BYTES:
            raise UserInputError(f"{path.name} is larger than the 200 MB model limit.")
        name = args.name or path.stem
        return packaging.package_upload(
            path.read_bytes(), path.name, name=name, tolerance=tolerance, repeats=args.repeats
        )
    if args.segments is not None:
        candidate = trained.segment_classifier(
            services, system, args.segments, algorithm=args.classifier
        )
    elif args.forecast_run is not None:
        candidate = trained.forecast_model(services, system, run_id=args.forecast_run)
    elif args.forecast:
        candidate = trained.forecast_model(
            services,
            system,
            args.forecast,
            date_col=args.date_col,
            value_col=args.value_col,
            id_col=args.id_col,
            freq=args.freq,
            agg=args.agg,
            horizon=args.horizon,
        )
    else:
        raise UserInputError(
            "Choose what to package: --segments RUN, --forecast DATASET, --forecast-run RUN "
            "or --onnx FILE."
        )
    return packaging.package(candidate, tolerance=tolerance, repeats=args.repeats)


def _package_json(packaged) -> dict[str, Any]:
    return {
        "name": packaged.name,
        "kind": packaged.kind,
        "source": packaged.source,
        "variant": packaged.variant,
        "quantized": packaged.quantized,
        "sha256": packaged.sha256,
        "size_bytes": packaged.size_bytes,
        "passed": packaged.passed,
        "input_schema": packaged.input_schema,
        "output_names": list(packaged.output_names),
        "verification": [v.as_dict() for v in packaged.verifications],
        "latency": [m.as_dict() for m in packaged.measurements],
        "quality": packaged.quality,
        "lineage": packaged.lineage,
        "notes": list(packaged.notes),
    }


def _package_text(packaged) -> str:
    lines = [f"{packaged.name}: {packaged.kind} from {packaged.source}, {packaged.variant}"]
    lines += [v.describe() for v in packaged.verifications]
    lines += [
        f"{m.variant}\t{m.size_bytes:,} bytes\t{m.single_row_ms:.3f} ms/row\t"
        f"{m.batch_ms:.2f} ms/{m.batch_rows:,} rows"
        for m in packaged.measurements
    ]
    lines += list(packaged.notes)
    return "\n".join(lines)


def _version_json(version) -> dict[str, Any]:
    from core.fleet.model_registry import manifest

    return {"id": version.id} | manifest(version)


def package_cmd(args: argparse.Namespace, services: Services) -> None:
    packaged = _package(args, services)
    payload = _package_json(packaged)
    text = _package_text(packaged)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(packaged.model)
        payload["written"] = str(out)
        text += f"\nwrote {out} ({packaged.size_bytes:,} bytes)"
    emit(args, payload, text)


def verify_cmd(args: argparse.Namespace, services: Services) -> None:
    packaged = _package(args, services)
    emit(args, _package_json(packaged), _package_text(packaged))
    if not packaged.passed:
        raise SystemExit(1)


def publish_cmd(args: argparse.Namespace, services: Services) -> None:
    from core.fleet import model_registry

    packaged = _package(args, services)
    version = model_registry.publish(
        services,
        User.system(),
        packaged,
        target_name=args.target,
        name=args.name,
        architectures=tuple(args.arch or model_registry.DEFAULT_ARCHITECTURES),
    )
    emit(
        args,
        _version_json(version),
        f"published {version.label} to {version.target_name}: {version.artifact_key} "
        f"({version.size_bytes:,} bytes, sha256 {version.sha256})",
    )


def list_cmd(args: argparse.Namespace, services: Services) -> None:
    from core.fleet import model_registry

    found = model_registry.list_versions(services.store, User.system(), args.name)
    lines = [
        f"{v.name}\tv{v.version}\t{v.kind}\t{v.source}\t{v.size_bytes:,} bytes\t"
        f"{'int8' if v.quantized else 'fp32'}\t{v.target_name}"
        for v in found
    ]
    emit(args, [_version_json(v) for v in found], "\n".join(lines) or "(no published models)")


ACTIONS: dict[str, Callable[[argparse.Namespace, Services], None]] = {
    "package": package_cmd,
    "verify": verify_cmd,
    "publish": publish_cmd,
    "list": list_cmd,
}


def models_cmd(args: argparse.Namespace, services: Services) -> None:
    """Run one `fleet models` action."""
    ACTIONS[args.action](args, services)


def _source_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--segments", type=int, metavar="RUN", help="a saved segmentation run")
    source.add_argument("--forecast", metavar="DATASET", help="train the global forecast model")
    source.add_argument("--forecast-run", type=int, metavar="RUN", help="a saved forecast run")
    source.add_argument("--onnx", metavar="FILE", help="an ONNX file (never a pickle)")
    parser.add_argument("--classifier", choices=["logistic", "tree", "mlp"], default="logistic")
    parser.add_argument("--id-col", help="column that splits the rows into series (e.g. sku)")
    parser.add_argument("--date-col")
    parser.add_argument("--value-col")
    parser.add_argument("--freq", choices=["daily", "weekly", "monthly", "quarterly", "yearly"])
    parser.add_argument("--agg", default="sum")
    parser.add_argument("--horizon", type=int, default=6)
    parser.add_argument(
        "--tolerance", type=float, default=0.05, help="largest deviation / output spread"
    )
    parser.add_argument("--min-agreement", type=float, default=0.99, help="classifiers")
    parser.add_argument("--repeats", type=int, default=50, help="timing repeats")
    parser.add_argument("--name", help="model name (default: from the source)")


def add_parser(areas, leaf: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `fleet models` and its actions to the fleet command's areas."""
    p = areas.add_parser("models", help="edge models: package, verify, publish, list")
    actions = p.add_subparsers(dest="action", required=True)
    package = leaf(actions, "package", "convert, optimise, verify and measure a model")
    _source_arguments(package)
    package.add_argument("--out", help="write the chosen ONNX artifact to this file")
    _source_arguments(leaf(actions, "verify", "verify a model; exit 1 if outside tolerance"))
    publish = leaf(actions, "publish", "package and publish to a cloud target")
    _source_arguments(publish)
    publish.add_argument("--target", required=True, help="cloud target name")
    publish.add_argument("--arch", action="append", help="target architecture (repeatable)")
    listing = leaf(actions, "list", "list published versions")
    listing.add_argument("--name", help="only this model")
