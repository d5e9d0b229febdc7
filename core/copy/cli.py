"""`python -m core copy generate|score`: write copy for a product, score any text.

python -m core copy generate --type google_ads_headline --product OUT-0001 --variants 3 --json
python -m core copy score draft.txt --type sms --voice "Lumen Goods everyday" --json
"""

from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

from core.auth.roles import User
from core.cli import emit
from core.copy import batches, scoring
from core.copy.content_types import CONTENT_TYPES, get
from core.copy.grounding import audience_from_text, lookup_product
from core.copy.providers import MAX_VARIANTS, PROVIDERS, GenerationRequest
from core.copy.studio import CopyStudio
from core.copy.voices import BrandVoice, get_voice, neutral_voice
from core.errors import UserInputError
from core.services import Services
from core.sources import open_source

MAX_SCORE_BYTES = 1_000_000


def _voice(services: Services, name: str | None) -> BrandVoice | None:
    return get_voice(services.store, User.system(), name) if name else None


def cmd_generate(args: argparse.Namespace, services: Services) -> None:
    system = User.system()
    content_type = get(args.type)
    voice = _voice(services, args.voice)
    source = args.dataset or batches.product_dataset(services, system)
    with open_source(services, source, system) as dataset:
        product = lookup_product(services.catalog, dataset, args.product)
    request = GenerationRequest(
        content_type=content_type,
        product=product,
        audience=audience_from_text(args.audience or ""),
        voice=voice or neutral_voice(),
        keyword=args.keyword or "",
        notes=args.notes or "",
        variants=args.variants,
    )
    studio = CopyStudio(services.store, services.settings.llm)
    streams = studio.generate(system, request, args.provider)
    variants = batches.finish(
        services,
        system,
        streams,
        request,
        voice,
        save=args.save,
        tags=args.tags or "",
        batch=uuid.uuid4().hex,
    )
    lines = [f"--- variant {v['variant']}\n{v['text']}\n" for v in variants]
    first = streams[0].draft
    payload = {
        "type": content_type.key,
        "provider": first.provider,
        "model": first.model,
        "from_template": first.from_template,
        "product": product.as_json(),
        "voice": voice.name if voice else None,
        "variants": variants,
    }
    origin = (
        "offline template output (no language model)"
        if first.from_template
        else f"model {first.model}"
    )
    emit(args, payload, f"{content_type.label} for {product.name}, {origin}:\n" + "\n".join(lines))


def cmd_score(args: argparse.Namespace, services: Services) -> None:
    if args.file == "-":
        text = sys.stdin.read(MAX_SCORE_BYTES + 1)
    else:
        path = Path(args.file)
        if not path.is_file():
            raise UserInputError(
                f"There is no file at {args.file}; give a text file or - for stdin."
            )
        if path.stat().st_size > MAX_SCORE_BYTES:
            raise UserInputError("The file is over 1 MB; score one piece of copy at a time.")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UserInputError(f"{args.file} is not UTF-8 text.") from None
    if len(text) > MAX_SCORE_BYTES:
        raise UserInputError("The text is over 1 MB; score one piece of copy at a time.")
    if not text.strip():
        raise UserInputError("There is no text to score.")
    content_type = get(args.type) if args.type else None
    voice = _voice(services, args.voice)
    score = scoring.score_text(text, content_type, voice, args.keyword or "")
    r = score.readability
    checks = "\n".join(f"  [{c.status}] {c.label}: {c.why}" for c in score.checks)
    summary = (
        f"{r.words} words, {r.sentences} sentences: reading ease {r.reading_ease} "
        f"({r.ease_band()}), grade {r.grade}\nsentiment: {score.sentiment.why()}"
        + (f"\nchecks:\n{checks}" if checks else "")
    )
    emit(args, score.as_json(), summary)


def cmd_copy(args: argparse.Namespace, services: Services) -> None:
    {"generate": cmd_generate, "score": cmd_score}[args.copy_command](args, services)


def register(add_command) -> None:
    """Add `copy generate` and `copy score` to the command line."""
    parser = add_command("copy", "generate copy for a product, or score a text", cmd_copy)
    sub = parser.add_subparsers(dest="copy_command", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        # --json may also follow the subcommand, as the other commands take it.
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        return p

    types = ", ".join(CONTENT_TYPES)
    p = command("generate", "write copy variants for a product")
    p.add_argument("--type", required=True, metavar="TYPE", help=f"content type: {types}")
    p.add_argument("--product", required=True, help="SKU or product name")
    p.add_argument("--dataset", help="dataset or file with the products (default: one with SKUs)")
    p.add_argument("--voice", help="saved brand voice")
    p.add_argument("--variants", type=int, default=1, help=f"1-{MAX_VARIANTS}")
    p.add_argument("--provider", choices=list(PROVIDERS), help="default: the configured one")
    p.add_argument("--keyword", help="search keyword to include and check")
    p.add_argument("--audience", help="who the copy is for, in a few words")
    p.add_argument("--notes", help="extra instructions for the writer")
    p.add_argument("--save", action="store_true", help="save the variants to the library")
    p.add_argument("--tags", help="comma-separated tags for saved variants")

    p = command("score", "readability, sentiment and checks of a text file (or - for stdin)")
    p.add_argument("file")
    p.add_argument("--type", metavar="TYPE", help=f"check channel limits of: {types}")
    p.add_argument("--voice", help="check against a saved brand voice")
    p.add_argument("--keyword", help="check SEO placement of a keyword")
