"""The DuckDB temp tables and views identity resolution builds on its connection, each named once.

All live on the connection `resolve.resolve_identities` runs on and are replaced on every run; the
`_idr_` prefix keeps them clear of the caller's own tables. The comment above each name says which
function creates it and which functions read it. `*_ARROW` and `CANDIDATE_IDS` are Arrow tables
registered for one statement and unregistered right after.
"""

# --- The graph: records, identifier values, and which record holds which value ---
# created by linking.build_graph (identifiers with keys); read by linking._group_keys, _rekey_clashes
INPUT = "_idr_input"
# created by linking._group_keys (added to by _rekey_clashes); read (then dropped) by linking.build_graph
REC_KEYS = "_idr_rec_keys"
# created by linking._group_keys (added to by _rekey_clashes); read (then dropped) by linking.build_graph
VAL_KEYS = "_idr_val_keys"
# created (then dropped) by linking._rekey_clashes: the new keys of the texts whose keys clashed
REKEYED = "_idr_rekeyed"
# created by linking.build_graph (numbered values); read (then dropped) by linking.build_graph
KEYS = "_idr_keys"
# created by linking.build_graph; read by linking, probabilistic, stable_ids.assign_ids, resolve
RECORDS = "_idr_records"
# created by linking.build_graph, appended by add_record_pairs; read by linking.LINK_EDGES_SQL, resolve
OBS = "_idr_obs"
# created by linking.build_graph, appended by add_record_pairs; read by linking, resolve
VALUES = "_idr_values"
# created by linking.build_graph (each record's hash of its identifiers); read by resolve._build_map_and_links
FINGERPRINTS = "_idr_fingerprints"
# created by linking.add_record_pairs (dropped by build_graph); read by resolve._build_map_and_links, match_outputs
PAIRS = "_idr_pairs"
# created by probabilistic.probabilistic_pairs (its default table); read by linking.add_record_pairs (via resolve)
PROB_PAIRS = "_idr_prob_pairs"
# created (then dropped) by match_threshold.split_scored: every pair Splink scored, across components or not
PROB_SCORED = "_idr_prob_scored"
# created by match_threshold.split_scored; read by match_outputs.build_match_review
PROB_REVIEW = "_idr_prob_review"

# --- Components and the guardrails that cut them ---
# created (registered) by graph.components_table; read by graph.components_table
LABELS_ARROW = "_idr_labels_arrow"
# created by linking.compute_components, replaced by recompute_offending; read by linking, probabilistic, stable_ids, changes, resolve
COMP = "_idr_comp"
# created by linking.enforce_type_limits, fuzzy_guard; read by them and linking.recompute_offending
OFFENDING = "_idr_offending"
# created by linking.enforce_type_limits, fuzzy_guard; read by them
CUT = "_idr_cut"
# created by graph.components_table for linking.recompute_offending; read by linking.recompute_offending
RELABEL = "_idr_relabel"
# created (registered) by linking.guardrail_report; read by linking.guardrail_report
REPORT_ARROW = "_idr_report_arrow"
# created (registered) by probabilistic.probabilistic_pairs; read by probabilistic.probabilistic_pairs
PAIRS_ARROW = "_idr_pairs_arrow"

# --- Stable ids and the change log ---
# created by stable_ids.assign_ids; read by stable_ids.assign_ids, _fresh_ids
PREV_REGISTRY = "_idr_prev_registry"
# created by stable_ids.assign_ids; read by stable_ids._fresh_ids, changes.build_registry
PREV_IDS = "_idr_prev_ids"
# created by stable_ids.assign_ids; read by stable_ids.assign_ids
PREV_REC = "_idr_prev_rec"
# created by stable_ids.assign_ids; read by stable_ids.assign_ids, changes.build_changes
OVERLAP = "_idr_overlap"
# created by stable_ids.assign_ids; read by stable_ids.assign_ids
ORIGIN_OVERLAP = "_idr_origin_overlap"
# created by stable_ids.assign_ids; read by stable_ids.assign_ids, changes.build_changes, build_registry
CLAIMS = "_idr_claims"
# created by stable_ids.assign_ids; read by stable_ids.assign_ids, changes.build_changes, build_registry
SURVIVORS = "_idr_survivors"
# created by stable_ids.assign_ids; read by stable_ids.assign_ids
UNCLAIMED = "_idr_unclaimed"
# created (registered) by stable_ids._fresh_ids; read by stable_ids._fresh_ids
CANDIDATE_IDS = "_idr_candidate_ids"
# created (registered) by stable_ids.assign_ids; read by stable_ids.assign_ids
FRESH_ARROW = "_idr_fresh_arrow"
# created by stable_ids.assign_ids; read by changes.build_changes, build_registry, resolve
COMP_IDS = "_idr_comp_ids"
# created by stable_ids.assign_ids; read by resolve._build_map_and_links
REC_ORIGIN = "_idr_rec_origin"
# created by resolve._build_map_and_links; read by resolve._build_map_and_links, match_outputs
REC_CUSTOMER = "_idr_rec_customer"

# --- Outputs (resolve.OUTPUT_TABLES), read by resolve.write_outputs and the identity stage ---
# created by changes.build_changes; read by resolve._counts, write_outputs
CHANGES = "_idr_changes"
# created by changes.build_registry; read by resolve._counts, write_outputs
REGISTRY = "_idr_registry"
# created by linking.guardrail_report; read by resolve._counts, write_outputs, stage.resolve
GUARDRAIL_REPORT = "_idr_guardrail_report"
# created by resolve._build_map_and_links; read by resolve.write_outputs, stage.resolve
IDENTITY_MAP = "_idr_identity_map"
# created (a view) by resolve._build_map_and_links; read by resolve.write_outputs, stage.oversized_components
IDENTITY_LINKS = "_idr_identity_links"
# created by match_outputs.build_match_links; read by resolve._counts, write_outputs
MATCH_LINKS = "_idr_match_links"
# created by match_outputs.build_match_review; read by write_outputs
MATCH_REVIEW = "_idr_match_review"
