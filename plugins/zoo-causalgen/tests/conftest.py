from zoo_core.testing.fixtures import hub, isolated_env, sleeps, zoo  # noqa: F401  (fixtures)
