"""Shared benchmark helpers: cached generated data, subprocess timing with per-child peak RSS, tables."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".cache"
GENERATED = "gen"
GEN_META = "generate.json"
SEED = 1


@dataclass
class Measure:
    """One measured child process: wall seconds, CPU seconds and its own peak RSS."""

    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    returncode: int
    result: dict

    def as_dict(self) -> dict:
        return asdict(self)


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a measured child, with Python's bytecode cache on. A deployment imports
    from cached bytecode; with PYTHONDONTWRITEBYTECODE set (as in this sandbox's shells), every
    child compiled all it imports again: 5.7 s against 1.9 s to import the stages' modules."""
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@functools.cache
def warm_bytecode() -> None:
    """Import every module of `uds_pipelines.lib` once in a child, so that the measured children
    find the bytecode of what they import cached (a first import writes it): once per process."""
    code = (
        "import importlib, pkgutil, uds_pipelines.lib as lib\n"
        "for m in pkgutil.walk_packages(lib.__path__, 'uds_pipelines.lib.'): importlib.import_module(m.name)"
    )
    subprocess.run([sys.executable, "-c", code], env=child_env(), check=True)


def run_measured(argv: list[str], env: dict[str, str] | None = None, timeout: float | None = None) -> Measure:
    """Run `argv` as a child and measure it alone: os.wait4 gives that child's own rusage.

    RUSAGE_CHILDREN would report the maximum over every child so far, hiding smaller stages. The
    child may print one line `RESULT {json}` that is returned as `result`."""
    warm_bytecode()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, text=True, env=child_env(env))
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.perf_counter() - started > timeout:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    result: dict = {}
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
    if proc.returncode != 0:
        result["error"] = "\n".join(stderr.strip().splitlines()[-15:])
    cpu = usage.ru_utime + usage.ru_stime
    return Measure(
        round(seconds, 2), round(cpu, 2), round(usage.ru_maxrss / 1024, 1), proc.returncode, result
    )


def emit_result(result: dict) -> None:
    """Child side of `run_measured`: one line the parent parses."""
    print("RESULT " + json.dumps(result, default=str), flush=True)


def people_for(events: int) -> int:
    """Proportional sources: one person per 10 Stripe events (surveys and forms scale with people)."""
    return max(100, events // 10)


def generated_dir(events: int, people: int | None = None) -> Path:
    name = str(events) if people is None else f"{events}-p{people}"
    return CACHE_DIR / name / GENERATED


def ensure_generated(events: int, people: int | None = None, seed: int = SEED) -> tuple[Path, dict]:
    """Generate once into the cache (in a measured subprocess); later calls reuse it with its figures."""
    out = generated_dir(events, people)
    meta_path = out.parent / GEN_META
    if meta_path.exists() and (out / "ground_truth" / "records.parquet").exists():
        return out, json.loads(meta_path.read_text())
    if out.exists():
        import shutil

        shutil.rmtree(out)
    people = people or people_for(events)
    argv = [sys.executable, __file__, "generate", str(out), str(people), str(seed), str(events)]
    m = run_measured(argv)
    if m.returncode != 0:
        raise RuntimeError(f"generation failed: {m.result.get('error')}")
    meta = m.as_dict() | {"bytes": dir_bytes(out / "inbox")}
    meta_path.write_text(json.dumps(meta, indent=1))
    return out, meta


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def link_tree(src: Path, dst: Path) -> None:
    """Hard-link a generated inbox into a work dir: landing deletes inbox files, the cache keeps them."""
    for path in src.rglob("*"):
        if path.is_file():
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                os.link(path, target)


def fmt_table(headers: list[str], rows: list[list[object]]) -> str:
    """A Markdown table whose columns line up when printed."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _generate_child(out: str, people: str, seed: str, events: str) -> None:
    from uds_pipelines.lib.generator.core import generate

    s = generate(Path(out), people=int(people), seed=int(seed), stripe_events=int(events))
    emit_result({"people": s.people, "unique_events": s.stripe_unique_events, "counts": s.counts})


if __name__ == "__main__":
    if sys.argv[1:2] == ["generate"]:
        _generate_child(*sys.argv[2:6])
