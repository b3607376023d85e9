# smscope — the two commands: `make demo` and `make test`.
.PHONY: install test demo lint bench clean

install:
	@bash scripts/install.sh

test: install
	.venv/bin/python -m pytest -n 2

demo: install
	.venv/bin/smscope demo

lint: install
	.venv/bin/ruff check src tests bench
	.venv/bin/mypy src

bench: install
	.venv/bin/python bench/import.py
	.venv/bin/python bench/smpp.py
	.venv/bin/python bench/campaigns.py
	.venv/bin/python bench/campaigns.py --only 4 --receipts 20000 --webhook-rounds 3
	.venv/bin/python bench/reports.py
	.venv/bin/python bench/export.py

clean:
	rm -rf .venv .pytest_cache .hypothesis .ruff_cache
