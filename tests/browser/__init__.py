"""Browser tests: the real app in Debian's chromium, driven by Playwright (see conftest.py)."""
