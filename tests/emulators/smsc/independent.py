"""smpplib, the independent SMPP implementation both sides are checked against (a dev
dependency): missing → the test fails under CI=true, and is skipped elsewhere."""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest


def smpplib() -> ModuleType:
    try:
        importlib.import_module("smpplib.client")
        importlib.import_module("smpplib.smpp")
        importlib.import_module("smpplib.gsm")
        return importlib.import_module("smpplib")
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("smpplib not installed (pip install smpplib)")
        pytest.skip("smpplib not installed")
