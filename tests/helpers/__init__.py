"""Helpers shared by the tests (no tests here): processes, archives, crawls, small webs."""
