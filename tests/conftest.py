import numpy as np
import pytest

from stpsim import population


@pytest.fixture(scope="session")
def footprint_base():
    return population.footprint_base()


@pytest.fixture(scope="session")
def england_cells(footprint_base):
    _, cells = footprint_base
    return cells.sum(axis=0)


@pytest.fixture()
def rng():
    return np.random.default_rng(20161)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A fresh store on SQLite, and on PostgreSQL where one is available (named after the test
    module): the store tests run on both."""
    from .conftest_store import fresh_postgres, sqlite_url

    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with fresh_postgres(request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:8]) as url:
            yield url
