"""Stored evidence packed: a folder of results files (a campaign's ``runs/``, a release's pair, the accuracy
runs) kept in the repository as one zip beside where the folder was, ``runs.zip`` for ``runs/``.

A clone then holds a few dozen archives instead of some fourteen hundred results files, and the evidence
commands read them as before: :func:`stored` gives the folder's path, itself where it is on disk (a campaign
just run writes plain files), else the archive unpacked once per process into a temporary folder.  The
archives hold the files byte for byte, so every table the evidence commands build from them is what it was.

    python -m bench.evidence.archive pack FOLDER [FOLDER ...]   # FOLDER -> FOLDER.zip, the folder removed
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

_UNPACKED: dict[Path, Path] = {}
#: a fixed time for every member: packing the same files twice gives the same archive
_EPOCH = (1980, 1, 1, 0, 0, 0)


def archive_of(folder: Path) -> Path:
    """Where ``folder``'s archive lies: beside it, named after it."""
    return folder.with_name(folder.name + ".zip")


def present(folder: Path) -> bool:
    """Whether ``folder`` is stored, as a folder or as its archive."""
    return folder.is_dir() or archive_of(folder).is_file()


def stored(folder: Path) -> Path:
    """A path whose files are ``folder``'s: the folder itself where it exists, else its archive unpacked (once
    per process, removed at exit); the folder's path where neither exists (readers then find nothing)."""
    folder = Path(folder)
    if folder.is_dir() or not archive_of(folder).is_file():
        return folder
    key = archive_of(folder).resolve()
    if key not in _UNPACKED:
        target = Path(tempfile.mkdtemp(prefix="bench-evidence-")) / folder.name
        with zipfile.ZipFile(key) as packed:
            for member in packed.infolist():
                name = Path(member.filename).name  # flat archives: never a path outside the target
                if name and not member.is_dir():
                    (target / name).parent.mkdir(parents=True, exist_ok=True)
                    (target / name).write_bytes(packed.read(member))
        target.mkdir(parents=True, exist_ok=True)
        atexit.register(shutil.rmtree, target.parent, True)
        _UNPACKED[key] = target
    return _UNPACKED[key]


def pack(folder: Path) -> Path:
    """Pack ``folder``'s files into its archive (sorted, fixed times, deflated) and remove the folder."""
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file())
    target = archive_of(folder)
    writing = target.with_suffix(".zip.partial")
    with zipfile.ZipFile(writing, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as packed:
        for path in files:
            member = zipfile.ZipInfo(path.name, date_time=_EPOCH)
            member.compress_type = zipfile.ZIP_DEFLATED
            packed.writestr(member, path.read_bytes())
    writing.replace(target)
    shutil.rmtree(folder)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence.archive", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    packing = commands.add_parser("pack", help="pack each FOLDER into FOLDER.zip and remove the folder")
    packing.add_argument("folders", nargs="+")
    args = parser.parse_args(argv)
    for folder in map(Path, args.folders):
        if not folder.is_dir():
            print(f"error: {folder}: not a folder", file=sys.stderr)
            return 2
        print(f"{pack(folder)}: {folder.name} packed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
