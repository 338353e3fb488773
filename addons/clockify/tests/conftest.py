from addons.clockify.testing import standin_install  # noqa: F401
