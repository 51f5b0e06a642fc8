"""A killed `iiot-lakehouse run` never blocks the next one.

The CLI executes its jobs in its own process (`execute_in_process`) against the instance in
DAGSTER_HOME. Steps claim concurrency-pool slots (`bronze_landing`, `marts_publish`, `delta_*`) in the
instance's storage; a process killed with SIGKILL, or by a power cut, leaves its run STARTED and its
slots claimed, and every later run waits for them forever. This package:

- tags each run the CLI starts with the host, PID and process start of the CLI (dead_runs.py `process_tags`);
- at start, fails the CLI's own runs whose process is gone, with a message in their event log, and
  frees their slots (dead_runs.py `recover_dead_runs`); the slots of runs that ended long ago are freed too;
- bounds a wait for a slot (IIOT_SLOT_WAIT_SECONDS) and names the run that holds it (guard.py `RunGuard`);
- stops the CLI on SIGTERM or SIGINT within seconds, with its run canceled and its slots freed (guard.py;
  stopped.py's `RunStopped` ends the command with the exit code).

Runs launched by the daemon (schedules, sensors, the UI) are covered by Dagster's run monitoring,
configured in the generated dagster.yaml (see orchestration/cli/instance.py INSTANCE_YAML).
"""
