"""The ASGI application for a server process: ``uvicorn stpsim.api.asgi:app``. The store is
``STPSIM_DATABASE_URL`` (default: stpsim.db in the current folder), brought up to date first."""

from ..service.catalogue import database_url
from ..service.catalogue import upgrade_store as upgrade
from .app import create_app

_url = database_url()
upgrade(_url)
app = create_app(url=_url)
