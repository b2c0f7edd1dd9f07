"""`IPython.core.error`: the errors magic authors raise."""

from jup.core.errors import UsageError


class TryNext(Exception):
    """Raised by a hook to let the next one try."""


class StdinNotImplementedError(NotImplementedError):
    """The frontend does not allow input."""


class InputRejected(Exception):
    """An input transformer refused the cell."""


__all__ = ["InputRejected", "StdinNotImplementedError", "TryNext", "UsageError"]
