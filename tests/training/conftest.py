import pytest

from vidpred.config import config_from_dict


@pytest.fixture
def tiny_config(tiny_config_data):
    """Build the tiny procedural config (``tests/conftest.py``); extra ``key=value`` overrides apply on top."""

    def make(*overrides):
        return config_from_dict(tiny_config_data, list(overrides))

    return make
