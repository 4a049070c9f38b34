"""The test suite; a package so that tests and benchmarks import its support code by name
(``tests.support``) from the project root."""
