"""The test suite's settings: the production settings with throw-away keys.

DEBUG stays off, as in production, so the tests see what production does. The
keys are set only if the environment has none (a worker the live tests start
inherits them).
"""

import os

os.environ.setdefault("SECRET_KEY", "test-suite-only-secret-key-never-used-outside-pytest-0123456789")
os.environ.setdefault("PII_HASH_KEY", "test-suite-only-pii-hash-key-never-used-outside-pytest-012345")

from .settings import *  # noqa: F403
