"""Synthetic inbox data for every source, with ground truth about who is who and what should land."""

from uds_pipelines.lib.generator.core import GenerationSummary, generate

__all__ = ["GenerationSummary", "generate"]
