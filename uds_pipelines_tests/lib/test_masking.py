"""Masking keeps previews and log lines free of personal data."""

import pandas as pd

from uds_pipelines.lib.masking import (
    mask_email,
    mask_frame,
    mask_name,
    mask_phone,
    mask_text,
    preview_markdown,
)


def test_scalar_masks():
    assert mask_email("jane.doe@example.com") == "j***@e***.com"
    assert mask_phone("+14155550123") == "+1********23"
    assert mask_name("Jane Doe") == "J*** D***"
    assert mask_email(None) is None and mask_phone(float("nan")) is None


def test_free_text_masks_embedded_emails_and_phones():
    text = mask_text("delivery for jane.doe@example.com, call +44 20 7946 0958 please")
    assert "jane.doe" not in text and "7946" not in text
    assert "j***@e***.com" in text


def test_frame_preview_masks_personal_columns_and_drops_raw_content():
    frame = pd.DataFrame(
        {
            "customer_id": ["uds_1"],
            "email": ["jane.doe@example.com"],
            "phone": ["+14155550123"],
            "first_name": ["Jane"],
            "raw": ['{"email": "jane.doe@example.com"}'],
            "note": ["reach me at jane.doe@example.com"],
        }
    )
    masked = mask_frame(frame)
    assert "raw" not in masked.columns
    rendered = preview_markdown(frame)
    for secret in ("jane.doe@example.com", "4155550123", "Jane"):
        assert secret not in rendered
    assert "uds_1" in rendered


def test_every_personal_column_of_the_catalog_is_masked_or_dropped():
    from uds_pipelines.lib import catalog

    for table in catalog.TABLES.values():
        if not table.personal:
            continue
        secret = "Jane Doe of 42 Wallaby Way"  # no e-mail or phone pattern for mask_text to find
        shown = mask_frame(pd.DataFrame({c: [secret] for c in table.personal}))
        for column in shown.columns:
            assert "Wallaby" not in str(shown[column][0]), (table.name, column)
