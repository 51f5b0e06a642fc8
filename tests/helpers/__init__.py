"""Plain helpers the tests import (`from tests.helpers.<module> import ...`); the fixtures stay in conftest.py."""
