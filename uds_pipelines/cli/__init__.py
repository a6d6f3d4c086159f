"""Console scripts: uds-run, uds-generate, uds-webhooks."""
