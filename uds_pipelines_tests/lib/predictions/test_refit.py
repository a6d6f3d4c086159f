"""Stored prediction models: a run scores with the models of an earlier fit until a refit is due
(`lib/predictions/model_store.py`), and reports what the fit run reported."""

from __future__ import annotations

import shutil
import threading
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from uds_pipelines.lib import catalog, lake, locks
from uds_pipelines.lib.predictions import buyers, model_store, sbg
from uds_pipelines.lib.predictions.stage import build_predictions
from uds_pipelines_tests.lib.predictions.lake import build_lake, read


def _no_fitting(monkeypatch) -> None:
    def refuse(*_args, **_kwargs):
        raise AssertionError("a model was fitted")

    monkeypatch.setattr(buyers, "fit_purchases", refuse)
    monkeypatch.setattr(sbg, "fit", refuse)


def _later(settings, days: float):
    return replace(settings, as_of_override=settings.as_of() + timedelta(days=days))


def test_the_next_run_scores_with_the_stored_models_as_the_fit_run_did(tmp_path, monkeypatch):
    settings = build_lake(tmp_path)
    fitted = build_predictions(settings)
    assert fitted.refit_reason == "no stored models" and fitted.fitted_as_of == settings.as_of()
    first = read(settings, "customer_predictions")
    _no_fitting(monkeypatch)
    scored = build_predictions(settings)
    assert scored.refit_reason is None and scored.fitted_as_of == settings.as_of()
    # the same rows: the stored parameters score in their own order, as the fit run's did
    pd.testing.assert_frame_equal(read(settings, "customer_predictions"), first)
    assert scored.model_version == fitted.model_version
    assert [m.figures() for m in scored.currencies] == [m.figures() for m in fitted.currencies]
    assert scored.subscribers.figures() == fitted.subscribers.figures()
    assert (scored.warnings, scored.notes) == (fitted.warnings, fitted.notes)


def test_a_later_as_of_is_scored_with_the_stored_models_on_its_own_summaries(tmp_path, monkeypatch):
    settings = build_lake(tmp_path)
    build_predictions(settings)
    first = read(settings, "customer_predictions").set_index(["customer_id", "currency"])
    _no_fitting(monkeypatch)
    later = build_predictions(_later(settings, 3))
    assert later.refit_reason is None and later.fitted_as_of == settings.as_of()
    again = read(settings, "customer_predictions").set_index(["customer_id", "currency"])
    buyers_ = first["model"].isin(("bgnbd", "pareto_nbd"))
    # three more days of customer age, no new purchase: every buyer a little less likely alive
    assert np.allclose(again.loc[buyers_, "t_weeks"], first.loc[buyers_, "t_weeks"] + 3 / 7)
    assert (again.loc[buyers_, "p_alive"] <= first.loc[buyers_, "p_alive"] + 1e-12).all()
    assert (again.loc[buyers_, "p_alive"] < first.loc[buyers_, "p_alive"]).any()
    assert (again["model_version"] == first["model_version"]).all()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: (_later(s, 7), False), "fitted 7 days before the as-of (refit every 7 days)"),
        (lambda s: (s, True), "rebuild asked for"),
        (lambda s: (replace(s, predictions_refit_days=0), False), "UDS_PREDICTIONS_REFIT_DAYS=0: fitted on every run"),
    ],
    ids=["a-week-old", "rebuild", "refit-every-run"],
)  # fmt: skip
def test_the_models_are_fitted_again_when_due(tmp_path, change, reason):
    settings = build_lake(tmp_path)
    build_predictions(settings)
    run_settings, rebuild = change(settings)
    stage = build_predictions(run_settings, rebuild=rebuild)
    assert stage.refit_reason == reason and stage.fitted_as_of == run_settings.as_of()
    # the new fit is the one stored: the next run at the same as-of scores with it
    if run_settings.predictions_refit_days:
        assert build_predictions(run_settings).fitted_as_of == run_settings.as_of()


def test_the_age_is_counted_in_calendar_days(tmp_path):
    settings = _later(build_lake(tmp_path), 2 / 24)  # fitted at 02:00 ...
    build_predictions(settings)
    # ... and a week later at 01:59:59, not quite 7 x 24 hours: a week by the calendar
    assert build_predictions(_later(settings, 7 - 1 / 86400)).refit_reason == (
        "fitted 7 days before the as-of (refit every 7 days)"
    )


def test_a_backfill_fits_for_its_own_day_and_keeps_the_newer_models(tmp_path, monkeypatch):
    settings = build_lake(tmp_path)
    build_predictions(settings)
    backfill = build_predictions(_later(settings, -3))
    assert backfill.refit_reason == "the as-of is before the fit's (2025-12-31)"
    assert backfill.fitted_as_of == settings.as_of() - timedelta(days=3)
    _no_fitting(monkeypatch)  # the next regular run scores with the models fitted at the later as-of
    assert build_predictions(_later(settings, 1)).fitted_as_of == settings.as_of()


def test_new_code_refits(tmp_path, monkeypatch):
    settings = build_lake(tmp_path)
    build_predictions(settings)
    monkeypatch.setattr(model_store, "salt", lambda: "another")
    assert build_predictions(settings).refit_reason == "the models' code or inputs changed"


def test_a_population_that_moved_refits_and_a_small_change_does_not(tmp_path):
    settings = build_lake(tmp_path, subscribers=60)
    build_predictions(settings)
    # 60 subscriptions fitted on (one of unknown status is left out), 20 ended: four more, two of
    # them ended, are within 10%
    build_lake(tmp_path, subscribers=64)
    assert build_predictions(settings).refit_reason is None
    build_lake(tmp_path, subscribers=70)
    assert build_predictions(settings).refit_reason == "subscriptions: 60 -> 70 (more than 10% since the fit)"
    # a currency no stored model knows
    charges = pd.read_parquet(catalog.path(settings.lake_dir, "stripe_charges"))
    charges.loc[charges.index[:5], "currency"] = "gbp"
    # where build_lake writes them: the keyed table takes the file in as its one part
    lake.write_parquet_atomic(charges, settings.lake_dir / "staging/stripe_charges.parquet")
    assert build_predictions(settings).refit_reason == "what there is to fit changed: buyers:gbp"
    # too few GBP buyers to fit, then and now: two more change nothing
    charges.loc[charges.index[5:7], "currency"] = "gbp"
    lake.write_parquet_atomic(charges, settings.lake_dir / "staging/stripe_charges.parquet")
    assert build_predictions(settings).refit_reason is None


def test_reaching_the_minimum_to_fit_refits_at_once(tmp_path):
    settings = build_lake(tmp_path, subscribers=19)
    first = build_predictions(settings)
    assert first.subscribers.fit is None and "19 subscriptions" in " ".join(first.warnings)
    build_lake(tmp_path, subscribers=20)  # one more: enough to fit, though within 10%
    stage = build_predictions(settings)
    assert stage.refit_reason == "subscriptions: 19 -> 20, now enough to fit"
    assert stage.subscribers.fit is not None and stage.subscribers.frame is not None
    assert not [w for w in stage.warnings if "subscriptions" in w]
    build_lake(tmp_path, subscribers=19)
    assert build_predictions(settings).refit_reason == "subscriptions: 20 -> 19, now too few to fit"


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: _replace_column(path, "models", '{"currencies": [{"currency": "usd"'),  # cut short
        lambda path: _replace_column(path, "population", "[1, 2]"),  # a list, not a mapping
        lambda path: _replace_column(path, "population", '{"subscribers": [60]}'),  # counts cut short
        lambda path: _rename_column(path, "models", "fits"),  # another layout
    ],
    ids=["json-cut-short", "population-not-a-mapping", "counts-cut-short", "another-layout"],
)
def test_unreadable_stored_models_are_fitted_again_not_a_failure(tmp_path, damage):
    settings = build_lake(tmp_path)
    build_predictions(settings)
    first = read(settings, "customer_predictions")
    damage(catalog.path(settings.lake_dir, model_store.TABLE))
    stage = build_predictions(settings)
    assert stage.refit_reason.startswith("stored models unreadable (")
    pd.testing.assert_frame_equal(read(settings, "customer_predictions"), first)
    assert build_predictions(settings).refit_reason is None  # the new fit was stored


def test_a_rebuild_does_not_read_the_stored_models(tmp_path):
    settings = build_lake(tmp_path)
    build_predictions(settings)
    _rename_column(catalog.path(settings.lake_dir, model_store.TABLE), "models", "fits")
    assert build_predictions(settings, rebuild=True).refit_reason == "rebuild asked for"


def _replace_column(path, column: str, value: str) -> None:
    stored = pd.read_parquet(path)
    stored[column] = value
    lake.write_parquet_atomic(stored, path)


def _rename_column(path, column: str, new: str) -> None:
    lake.write_parquet_atomic(pd.read_parquet(path).rename(columns={column: new}), path)


def test_a_crash_after_the_models_are_stored_scores_the_same_on_the_rerun(tmp_path, monkeypatch):
    settings = build_lake(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "lake", copy / "lake")
    clean = build_predictions(settings)

    from uds_pipelines.lib import lake_views

    real = lake_views.write_arrow

    def crash(lake_dir, name, *args, **kwargs):
        if name == "customer_predictions":
            raise KeyboardInterrupt("killed")
        return real(lake_dir, name, *args, **kwargs)

    copied = replace(settings, data_dir=copy)
    monkeypatch.setattr(lake_views, "write_arrow", crash)
    with pytest.raises(KeyboardInterrupt):
        build_predictions(copied)
    monkeypatch.setattr(lake_views, "write_arrow", real)
    rerun = build_predictions(copied)
    assert rerun.refit_reason is None and rerun.model_version == clean.model_version
    pd.testing.assert_frame_equal(read(copied, "customer_predictions"), read(settings, "customer_predictions"))


def test_a_second_run_waits_for_the_one_writing_the_models(tmp_path):
    settings = build_lake(tmp_path)
    finished = threading.Event()
    second = threading.Thread(target=lambda: (build_predictions(settings), finished.set()))
    with locks.step_lock(settings.locks_dir, "customer_predictions"):
        second.start()
        assert not finished.wait(3.0)  # a run of this lake takes well under a second
    second.join(60)
    assert finished.is_set()
