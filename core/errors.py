"""The one exception tree of Beacon.

    BeaconError                 base; anything else escaping core is a bug
    ├── UserInputError          the user can fix it; message shown verbatim, one line
    ├── IntegrationError        a service outside Beacon failed; says which and why
    ├── PermissionDenied        the acting user's role does not allow the action
    └── NotFound                a named thing (dataset, user, version) does not exist

Pages render these with one `st.error`; the CLI prints `error: <message>` and exits 2.
"""


class BeaconError(Exception):
    """Base of every error Beacon raises on purpose."""


class UserInputError(BeaconError):
    """Bad input the user can fix; the message says what to fix."""


class IntegrationError(BeaconError):
    """A service outside Beacon failed (storage, model server, database)."""


class PermissionDenied(BeaconError):
    """The acting user's role does not allow this action."""


class NotFound(UserInputError):
    """A named thing does not exist."""
