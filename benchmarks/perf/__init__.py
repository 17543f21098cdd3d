"""Performance measurements of the simulator (run apart from the test suite)."""
