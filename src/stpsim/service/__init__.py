"""The service layer: the one place that runs, compares, reports, rolls up, stores and
authorises. Shells (the CLI, the REST API) call it and hold no model logic.

- ``compute``: stateless work on plan documents (baseline, run, compare, incentives, roll-up,
  report), answering with the response models of ``responses``, which `--json` prints and the
  API publishes in its OpenAPI schema;
- ``plans``: the shared store (plans, versions, submissions, runs) with users and roles.
"""

from .errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotAuthenticated,
    NotFound,
    ServiceError,
    TooManyAttempts,
    Unavailable,
)

_PLANS = (
    "PUBLIC",
    "Actor",
    "Service",
    "canonical",
    "data_version",
    "on_cluster",
    "run_document",
    "run_identity",
)


def __getattr__(name: str):
    # The store's names load SQLAlchemy, which a CLI run never needs: import them on first use.
    if name in _PLANS:
        from . import plans

        return getattr(plans, name)
    raise AttributeError(name)


__all__ = [
    "Actor",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotAuthenticated",
    "NotFound",
    "PUBLIC",
    "Service",
    "ServiceError",
    "Unavailable",
    "canonical",
    "data_version",
    "on_cluster",
    "run_document",
    "run_identity",
    "TooManyAttempts",
]
