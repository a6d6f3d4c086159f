"""The project's definitions with the in-process executor, for tests of the run queue and daemon.

What those tests check is that a queued run reaches the daemon and finishes; the default
(multiprocess) executor would start one Python per step, each importing Dagster and the project
again (most of a queued run's two minutes on 2 cores). `ui/test_ui_browser.py` still runs the
whole graph with the default executor from the UI.
"""

import dagster as dg

# the module, not its `defs`: Dagster refuses a module with two @definitions functions in scope
from uds_pipelines import definitions as project


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(project.defs(), dg.Definitions(executor=dg.in_process_executor))
