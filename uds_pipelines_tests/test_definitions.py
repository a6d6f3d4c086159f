"""The code location loads, and every asset is documented, grouped and typed for the UI."""

import dagster as dg

from uds_pipelines import constants as c
from uds_pipelines.definitions import defs
from uds_pipelines.lib import catalog

EXPECTED_GROUPS = {c.GROUP_INGEST, c.GROUP_IDENTITY, c.GROUP_PROFILES, c.GROUP_SEGMENTS, c.GROUP_AUDIENCES}


def test_every_asset_has_group_kind_owner_and_one_line_docstring():
    graph = defs().resolve_asset_graph()
    groups = set()
    for node in graph.asset_nodes:
        spec = node.to_asset_spec()
        groups.add(spec.group_name)
        assert spec.group_name and spec.group_name != "default", spec.key
        assert spec.kinds, f"{spec.key} has no kind"
        assert spec.owners, f"{spec.key} has no owner"
        assert spec.description and "\n" not in spec.description.strip(), (
            f"{spec.key} needs a one-line docstring"
        )
    assert EXPECTED_GROUPS <= groups


def test_every_table_asset_shows_its_columns_path_and_description():
    """Where is table X, who writes it, what are its columns: all on the table's asset."""
    graph = defs().resolve_asset_graph()
    for t in catalog.TABLES.values():
        node = graph.get(dg.AssetKey(t.name))
        meta = node.metadata
        columns = getattr(meta["dagster/column_schema"], "schema", meta["dagster/column_schema"]).columns
        assert [col.name for col in columns] == list(t.columns), t.name
        assert {col.name for col in columns if col.tags and "personal" in col.tags} == set(t.personal), t.name
        assert meta["table_path"] == f"lake/{t.path}" + ("/" if t.kind == "folder" else ""), t.name
        assert meta["dagster/table_name"] == t.name
        assert t.owner in meta["written_by"], t.name
        assert node.description and node.description.startswith(t.description), t.name


def test_every_check_has_a_one_line_description():
    graph = defs().resolve_asset_graph()
    checks = [graph.get(key) for key in graph.asset_check_keys]
    assert len(checks) >= 10
    for check in checks:
        assert check.description and "\n" not in check.description.strip(), check.key


def test_erasure_and_retention_name_the_tables_they_delete_from():
    graph = defs().resolve_asset_graph()
    outside_privacy = {t.name for t in catalog.TABLES.values() if t.layer != "privacy"}
    personal = {t.name for t in catalog.TABLES.values() if t.personal} - {"erasures_in_progress"}
    assert personal <= outside_privacy
    erasure = graph.get(dg.AssetKey("requests_audit"))
    described = {
        name
        for name in outside_privacy
        if f" {name}," in erasure.description or f" {name} " in erasure.description
    }
    assert described == outside_privacy
    # every such table upstream of erasure is also its dep; the rest are rebuilt after it
    upstream = {k.to_user_string() for k in erasure.parent_keys}
    later = dg.AssetSelection.assets("requests_audit").downstream().resolve(graph)
    downstream = {k.to_user_string() for k in later}
    assert outside_privacy - downstream <= upstream
    assert {"consent_ledger", "customer_profiles", "audience_members"} <= downstream
    retention = graph.get(dg.AssetKey("retention"))
    deleted = {
        "landed_stripe",
        "landed_survey_responses",
        "landed_survey_answers",
        "landed_forms",
        "quarantine",
    }
    assert deleted <= {k.to_user_string() for k in retention.parent_keys}
    assert all(name in retention.description for name in deleted)


def test_each_multi_table_step_can_be_selected_whole_by_its_step_tag():
    """The README's `dg launch --assets 'tag:uds/step=<step>'`: a step's tables alone are refused
    by Dagster (it cannot subset them), the tag selects exactly the step's tables."""
    d = defs()
    job = d.resolve_implicit_global_asset_job_def()
    steps = {t.owner for t in catalog.TABLES.values() if not (t.kind == "folder" and t.also_written_by)}
    for step in sorted(steps):
        selection = dg.AssetSelection.tag("uds/step", step)
        keys = selection.resolve(d.resolve_asset_graph())
        expected = {dg.AssetKey(n) for n, t in catalog.TABLES.items() if t.owner == step}
        assert keys and keys <= expected, step
        job.get_subset(asset_selection=keys)  # raises DagsterInvalidSubsetError if not the whole step
    one_table = {dg.AssetKey("stripe_customers")}
    try:
        job.get_subset(asset_selection=one_table)
    except dg.DagsterInvalidSubsetError:
        pass
    else:
        raise AssertionError("a single table of stripe_staging was accepted: update the README")
