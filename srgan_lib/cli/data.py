"""The ``srgan data`` command: ``list``, ``download NAME...``, ``verify NAME``."""
from __future__ import annotations

import argparse
from pathlib import Path

from srgan_lib.data.cache import ENV_VAR, cached_folder, dataset_images, default_cache_dir
from srgan_lib.data.download import download_dataset
from srgan_lib.data.registry import DATASETS, get_dataset
from srgan_lib.data.verify import read_sha256sums, verify_dataset

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=None,
                        help=f"cache folder (default ${ENV_VAR} or ~/.cache/srgan_lib/datasets)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    sub.add_parser("list", help="table of the registered datasets")
    p = sub.add_parser("download", help="download datasets into the cache (a cached set is not downloaded again)")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--force", action="store_true", help="download again even if cached")
    p = sub.add_parser("verify", help="check a dataset against its per-file SHA-256 manifest")
    p.add_argument("name", metavar="NAME", help="a dataset name, or a folder (with --manifest)")
    p.add_argument("--manifest", default=None, help="a SHA256SUMS file to check against instead")


def _cmd_list(cache: Path) -> int:
    rows = [("name", "kind", "images", "cached", "citation")]
    for ds in DATASETS.values():
        rows.append((ds.name, ds.kind, str(ds.images),
                     "yes" if cached_folder(ds.name, cache) else "no", ds.citation))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[4])
    print(f"cache: {cache}")
    return 0


def main(args) -> int:
    cache = Path(args.data_dir).expanduser() if args.data_dir else default_cache_dir()
    if args.action == "list":
        return _cmd_list(cache)
    if args.action == "download":
        sets = [get_dataset(name) for name in args.names]  # every name checked before any download
        for ds in sets:
            folder = download_dataset(ds.name, cache_dir=cache, force=args.force)
            print(f"{ds.name}: {len(dataset_images(folder))} images in {folder}")
        return 0
    manifest = read_sha256sums(args.manifest) if args.manifest else None
    report = verify_dataset(args.name, manifest=manifest, cache_dir=cache)
    print(f"{args.name}: {report.summary()} ({report.folder})")
    for rel in report.missing:
        print(f"  missing: {rel}")
    for rel in report.mismatched:
        print(f"  sha256 differs: {rel}")
    return 0 if report.ok else 1
