"""What a node of the two-node test runs: the production settings, from the environment the test gives it, with the
two things a test run cannot have: collected static files (pages name them unhashed) and slow password hashing
(the test users' passwords are hashed as the test suite hashes them)."""

from portal.settings import *  # noqa: F403

STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
