# The two commands of the README: `make chat` and `make test`.
PYTHON ?= python3

.PHONY: chat test install test-deps lint

install:
	$(PYTHON) -m pip install -q -e .
	@# pyenv only sees a new console script after a rehash
	@if command -v pyenv >/dev/null; then pyenv rehash; fi

chat: install
	deskbot chat

test-deps:
	bash scripts/install-test-deps

test: test-deps
	deskbot flows check
	deskbot replay -q transcripts/
	$(PYTHON) -m pytest -q

lint:
	$(PYTHON) -m ruff check bot tests bench scripts
	$(PYTHON) -m mypy
