"""The service layer: the one place that runs, compares, reports, rolls up, stores and
authorises. Shells (the CLI, the REST API) call it and hold no model logic.

- ``compute``: stateless work on plan documents (baseline, run, compare, incentives, roll-up,
  report), answering with the response models of ``responses``, which `--json` prints and the
  API publishes in its OpenAPI schema;
- ``plans``: the shared store (plans, versions, submissions, runs) with users and roles.
"""

from .plans import (
    Actor,
    Conflict,
    Forbidden,
    Invalid,
    NotAuthenticated,
    NotFound,
    Service,
    ServiceError,
    Unavailable,
    canonical,
    data_version,
    on_cluster,
    run_document,
    run_identity,
)

__all__ = [
    "Actor",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotAuthenticated",
    "NotFound",
    "Service",
    "ServiceError",
    "Unavailable",
    "canonical",
    "data_version",
    "on_cluster",
    "run_document",
    "run_identity",
]
