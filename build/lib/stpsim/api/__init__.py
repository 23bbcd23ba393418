"""The REST API (FastAPI): thin routes over :mod:`stpsim.service`."""

from .app import create_app

__all__ = ["create_app"]
