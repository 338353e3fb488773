# Shared fixtures; clockify_standin.testing holds the stand-in fixtures (server, Clockify side).
pytest_plugins = ["tests.fixtures", "clockify_standin.testing", "tests.logcheck", "pytester"]
