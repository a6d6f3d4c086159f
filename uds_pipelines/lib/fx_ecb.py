"""Turn the ECB euro reference rates into a `UDS_FX_RATES` file to any reporting currency.

The European Central Bank publishes, each working day around 16:00 CET, how many units of about
30 currencies one euro buys: https://www.ecb.europa.eu/stats/eurofxref/eurofxref-hist.zip (every
day since 1999, `eurofxref-hist.csv`) or eurofxref.zip (the latest day). Our file wants units of
the reporting currency per one unit of each currency, so for reporting currency R and currency C
on a day: rate(C) = (R per EUR) / (C per EUR), rate(EUR) = R per EUR, rate(R) = 1.

    python -m uds_pipelines.lib.fx_ecb eurofxref-hist.csv USD 2026-01-01 > fx_rates.csv

The ECB does not publish every currency (no KRW, ...); add their rows from another source.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import date, datetime
from pathlib import Path

from uds_pipelines.lib.fx import RatesError, reporting_code


def _day(text: str) -> date:
    """ISO (`2026-10-30`, the history file) or `30 October 2026` (the daily file)."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        return datetime.strptime(text, "%d %B %Y").date()


def ecb_to_rates(text: str, reporting: str, since: date | None = None) -> str:
    """The ECB CSV `text` as `currency,rate,date` rows of rates to `reporting`, from `since` on."""
    reporting = reporting_code(reporting)
    rows = [
        [cell.strip() for cell in row] for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)
    ]
    if not rows or rows[0][0].lower() != "date":
        raise RatesError("not an ECB reference-rate file: the first column must be Date")
    currencies = [c.upper() for c in rows[0][1:]]
    out = ["currency,rate,date"]
    for row in rows[1:]:
        day = _day(row[0])
        if since and day < since:
            continue
        per_eur = {c: float(v) for c, v in zip(currencies, row[1:], strict=False) if c and v and v != "N/A"}
        per_eur["EUR"] = 1.0
        if reporting not in per_eur:
            continue  # no rate for the reporting currency that day: nothing converts
        for currency in sorted(per_eur):
            rate = 1.0 if currency == reporting else per_eur[reporting] / per_eur[currency]
            out.append(f"{currency},{rate:.8g},{day.isoformat()}")
    if len(out) == 1:
        raise RatesError(f"no day in the file has a rate for {reporting}")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        sys.stderr.write("usage: python -m uds_pipelines.lib.fx_ecb ECB_CSV REPORTING_CURRENCY [SINCE]\n")
        return 2
    since = date.fromisoformat(argv[2]) if len(argv) == 3 else None
    sys.stdout.write(ecb_to_rates(Path(argv[0]).read_text(encoding="utf-8-sig"), argv[1], since))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
