"""How the CLI stops before its work is done (RunStopped); free of Dagster, so that the CLI's entry catches it
without importing Dagster."""


class RunStopped(BaseException):
    """The CLI stops before its work is done: a signal, or a slot that stayed taken.

    A BaseException, like KeyboardInterrupt, so that no `except Exception` on the way swallows it.
    """

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
