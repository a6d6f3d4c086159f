"""Copy the bundled sample inbox into the live inbox the way writers must: temp name, then rename."""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path


def seed_inbox(source_root: Path, inbox_root: Path) -> int:
    copied = 0
    for path in sorted(source_root.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        target = inbox_root / path.relative_to(source_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.seed.tmp"
        shutil.copyfile(path, tmp)
        os.replace(tmp, target)
        copied += 1
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from", dest="source", type=Path, required=True)
    parser.add_argument("--to", dest="target", type=Path, required=True)
    args = parser.parse_args(argv)
    count = seed_inbox(args.source, args.target)
    print(f"seeded {count} sample file(s) into {args.target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
