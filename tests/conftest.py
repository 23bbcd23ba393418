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
