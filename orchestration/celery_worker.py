"""The Celery app of a step worker: `iiot-lakehouse worker` (or `celery -A orchestration.celery_worker worker`).

It is dagster-celery's own step task (`execute_plan`, on the `dagster` queue), bound to the broker and
result backend of CELERY_BROKER_URL / CELERY_RESULT_BACKEND, so the workers and the runs that submit
to them are configured by the same variables. A worker loads the job from this installed package and
reads LAKEHOUSE_ROOT, LANDING_ROOT and PLANT_CONFIG from its own environment, like a run does.
"""

from dagster_celery.executor import CeleryExecutor
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

# The job's code, imported once in the worker before it forks its pool processes: each step then
# starts in a process that has it, instead of importing it while the run waits.
from . import definitions  # noqa: F401
from .executors import celery_urls

QUEUE = "dagster"

_broker, _backend = celery_urls()
app = make_app(CeleryExecutor.for_cli(broker=_broker, backend=_backend).app_args())
execute_plan = create_task(app)
