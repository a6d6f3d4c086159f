"""The lake catalog (lib/catalog.py) against what the graph writes and the docs."""

import shutil
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from uds_pipelines import constants as c
from uds_pipelines.definitions import defs
from uds_pipelines.lib import catalog
from uds_pipelines.lib.generator.core import generate
from uds_pipelines_tests.lib.ingest.events.spec_examples import ALL as SPEC_EVENTS
from uds_pipelines_tests.lib.ingest.events.spec_examples import message, write_jsonl

AS_OF = "2026-11-01T00:00:00Z"
ROOT = Path(__file__).resolve().parents[1]

# Tables a run on generated data does not leave behind, with the reason.
NOT_WRITTEN_BY_A_CLEAN_RUN = {
    "erasures_in_progress": "removed once every erasure has finished; only a crashed run leaves it",
}


def test_declarations_are_consistent():
    paths = [t.path for t in catalog.TABLES.values()]
    assert len(paths) == len(set(paths))
    for t in catalog.TABLES.values():
        assert t.kind in catalog.KINDS and t.layer in catalog.LAYERS, t.name
        assert t.path.endswith(".parquet") == (t.kind == "file"), t.name
        assert set(t.personal) <= set(t.columns), (t.name, set(t.personal) - set(t.columns))
        assert len(set(t.columns)) == len(t.columns), t.name
    assert catalog.path(Path("/lake"), "identity_map") == Path("/lake/identity/identity_map.parquet")
    for name, notes in catalog.COLUMN_NOTES.items():
        assert set(notes) <= set(catalog.table(name).columns), (
            name,
            set(notes) - set(catalog.table(name).columns),
        )
    assert set(catalog.TABLE_NOTES) <= set(catalog.TABLES)
    for t in catalog.TABLES.values():
        assert {c for c, _default in t.added} <= set(t.columns), t.name
        assert not t.variable_prefix or any(c.startswith(t.variable_prefix) for c in t.columns), t.name
        assert not t.expires_by or pa.types.is_timestamp(t.arrow_type(t.expires_by)), t.name


def test_every_table_is_an_asset_with_the_catalog_schema_written_by_its_owner_step():
    """Each catalog table is its own asset key, its column_schema metadata is the catalog's schema,
    and `owner` is the step materializing it (shared folders: an external asset fed by its writers)."""
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    step_of = {
        key.to_user_string(): assets_def.node_def.name
        for assets_def in graph.assets_defs
        if assets_def.is_executable
        for key in assets_def.keys
    }
    steps = set(step_of.values())
    for t in catalog.TABLES.values():
        key = dg.AssetKey(t.name)
        assert graph.has(key), t.name
        node = graph.get(key)
        schema = node.metadata["dagster/column_schema"]
        schema = getattr(schema, "schema", schema)  # a TableSchema, or its metadata value
        assert [(col.name, col.type) for col in schema.columns] == [
            (f.name, catalog.duckdb_type(f.type)) for f in t.schema
        ], t.name
        assert {t.owner, *t.also_written_by} <= steps, t.name
        if t.kind == "folder" and t.also_written_by:
            assert not node.is_materializable, f"{t.name} is shared: an external asset"
            feeders = {k.to_user_string() for k in node.parent_keys}
            assert {step_of[f] for f in feeders} == {t.owner, *t.also_written_by}, t.name
        else:
            assert step_of[t.name] == t.owner, t.name


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory):
    """One run of the full job on generated data (seed 6 has erasures, so the suppression list is
    written; probabilistic matching writes match links)."""
    root = tmp_path_factory.mktemp("catalog")
    generate(root / "generated", people=60, seed=6, workers=1)
    data = root / "data"
    shutil.copytree(root / "generated" / "inbox", data / "inbox")
    # until the generator emits events; dated before AS_OF and within retention
    recent = [message(e, timestamp="2026-01-15T10:00:00Z") for e in SPEC_EVENTS]
    write_jsonl(data / "inbox" / "events" / "events_spec.jsonl", recent)
    with pytest.MonkeyPatch.context() as mp, dg.instance_for_test() as instance:
        mp.setenv("UDS_DATA_DIR", str(data))
        mp.setenv("UDS_AS_OF", AS_OF)
        mp.setenv("UDS_MATCHING", "probabilistic")
        result = (
            defs().resolve_job_def(c.JOB_FULL_RUN).execute_in_process(instance=instance, raise_on_error=False)
        )
        assert result.success
    return data / "lake"


def _owning_table(relative: Path) -> list[catalog.Table]:
    return [
        t
        for t in catalog.TABLES.values()
        if (t.kind == "file" and relative.as_posix() == t.path)
        or (t.kind == "folder" and not t.partitioned_by and relative.parent.as_posix() == t.path)
        or (
            t.partitioned_by is not None
            and relative.parent.name.startswith(f"{t.partitioned_by}=")
            and relative.parent.parent.as_posix() == t.path
        )
    ]


def test_every_lake_file_conforms_to_its_catalog_table(lake_dir):
    seen: set[str] = set()
    files = sorted(p for p in lake_dir.rglob("*.parquet") if not p.name.startswith("."))
    assert files
    for file in files:
        relative = file.relative_to(lake_dir)
        owners = _owning_table(relative)
        assert len(owners) == 1, f"{relative} belongs to {len(owners)} catalog tables"
        table = owners[0]
        seen.add(table.name)
        # names and types; nullability depends on the data, so it is not compared
        written = [(f.name, f.type) for f in pq.read_schema(file)]
        if table.open_columns:  # plus one column per computed trait (traits.yaml)
            written = [w for w in written if w[0] in table.columns]
        assert written == [(f.name, f.type) for f in table.schema], relative
    missing = set(catalog.TABLES) - seen - set(NOT_WRITTEN_BY_A_CLEAN_RUN)
    assert not missing, f"declared but not written by a full run: {sorted(missing)}"


def test_architecture_doc_lists_the_catalog():
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    assert doc == catalog.with_markdown(doc), (
        "docs/ARCHITECTURE.md's lake tables differ from lib/catalog.py; regenerate with "
        "`.venv/bin/python -m uds_pipelines.lib.catalog --write docs/ARCHITECTURE.md`"
    )


def _lake_path_literals():
    """`file:line: literal` for every string literal in lib (outside the catalog) that is a catalog
    table path, or a file table's file name (`identity_map.parquet`), or ends with one after a `/`.
    Single-word paths (`quarantine`) are also plain words, so only paths with a folder part count."""
    import ast

    paths = {t.path for t in catalog.TABLES.values() if "/" in t.path}
    paths |= {t.path.rsplit("/", 1)[-1] for t in catalog.TABLES.values() if t.kind == "file"}
    lib = ROOT / "uds_pipelines" / "lib"
    for file in sorted(lib.rglob("*.py")):
        if file == lib / "catalog.py":
            continue
        for node in ast.walk(ast.parse(file.read_text(), filename=str(file))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if any(text == p or text.endswith("/" + p) for p in paths):
                    yield f"{file.relative_to(ROOT)}:{node.lineno}: {text!r}"


def test_lake_paths_are_declared_only_in_the_catalog():
    """Code takes lake table paths from `catalog` (`catalog.path(lake_dir, name)`), never spells them."""
    found = list(_lake_path_literals())
    assert not found, "lake table paths spelled outside lib/catalog.py:\n" + "\n".join(found)
