"""`python -m orchestration.cli`: the `iiot-lakehouse` command."""

from orchestration.cli import main

main()
