"""Wiring is wiring: `uds_pipelines/defs/` reads settings, calls one lib stage and reports its figures;
it never runs SQL or opens DuckDB itself. Benchmarks measure those same lib stages, so they never
import `uds_pipelines.defs` (whose asset bodies they would otherwise re-write without the locks,
gates, ledger and verification). A source scan, so a new module is covered without being listed."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFS = sorted((ROOT / "uds_pipelines" / "defs").rglob("*.py"))
BENCHMARKS = sorted((ROOT / "benchmarks").rglob("*.py"))

# Modules that give direct access to DuckDB, the lake's files or the warehouse.
DATA_MODULES = ("duckdb", "uds_pipelines.lib.lake", "uds_pipelines.lib.storage", "uds_pipelines.lib.warehouse")
# Calls that run SQL, open a connection or build a relation over the lake.
# (`lake_views.row_count`, a Parquet footer's row count, is a figure defs may report.)
DATA_CALLS = {"execute", "sql", "fetchall", "fetchone", "read_table_sql", "parquet_relation",
              "copy_query_to_parquet", "read_parquet", "connect", "register", "write_query",
              "write_arrow"}  # fmt: skip


def _imported_modules(tree: ast.AST) -> set[str]:
    """Every module a file imports, `from a import b` counted as both `a` and `a.b`."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _called_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), filename=str(path))


@pytest.mark.parametrize("path", DEFS, ids=lambda p: str(p.relative_to(ROOT)))
def test_defs_module_runs_no_sql_and_opens_no_connection(path):
    tree = _parse(path)
    imports = _imported_modules(tree)
    data_imports = sorted(m for m in imports if m in DATA_MODULES or m.startswith(tuple(d + "." for d in DATA_MODULES)))
    assert not data_imports, f"{path.name} imports {data_imports}: move that work into a lib stage"
    calls = _called_names(tree)
    bad_calls = sorted((calls & DATA_CALLS) | {n for n in calls if n.endswith("connection")})
    assert not bad_calls, f"{path.name} calls {bad_calls}: move that work into a lib stage"


@pytest.mark.parametrize("path", BENCHMARKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_benchmark_never_imports_the_dagster_wiring(path):
    imports = _imported_modules(_parse(path))
    wiring = sorted(m for m in imports if m == "uds_pipelines.defs" or m.startswith("uds_pipelines.defs."))
    assert not wiring, f"{path.name} imports {wiring}: call the lib stage the asset calls"


def test_scan_sees_a_connection_and_a_wiring_import():
    """The scan itself works: it finds what it is there to find."""
    wiring = ast.parse("from uds_pipelines.lib import lake\ncon = lake.duckdb_connection()\ncon.execute('x')")
    assert "uds_pipelines.lib.lake" in _imported_modules(wiring)
    assert {"duckdb_connection", "execute"} <= _called_names(wiring)
    bench = ast.parse("from uds_pipelines.defs.audiences import assets")
    assert "uds_pipelines.defs.audiences" in _imported_modules(bench)


LIB = ROOT / "uds_pipelines" / "lib"
# The engine seam: the only modules that name files to DuckDB. Everything else in lib is stage code
# and names catalog tables (their views), so the same SQL could run on another engine.
ENGINE_SEAM = {LIB / "lake.py", LIB / "lake_views.py"}
STAGE_CODE = sorted(p for p in LIB.rglob("*.py") if p not in ENGINE_SEAM)
FILE_RELATIONS = {"read_table_sql", "parquet_relation", "parquet_glob"}


@pytest.mark.parametrize("path", STAGE_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_stage_code_names_tables_not_files(path):
    text = path.read_text()
    assert "read_parquet(" not in text, f"{path.name} reads Parquet files by path: name the catalog table's view"
    old = sorted(_called_names(_parse(path)) & FILE_RELATIONS)
    assert not old, f"{path.name} calls {old}: name the catalog table's view (lib/lake_views.py)"


def test_stage_code_scan_sees_a_file_read():
    assert "read_table_sql" in _called_names(ast.parse("lake.read_table_sql(p, {})"))
    assert STAGE_CODE and ENGINE_SEAM <= set(LIB.rglob("*.py"))
