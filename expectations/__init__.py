"""Great Expectations suites of the quality gate, kept as code so they are stable under git."""
