# Two commands do all set-up on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

DEMO_DIR     ?= demo
DEMO_MONTHS  ?= 2026-09,2026-10
DEMO_PERIOD  ?= 2026-10
DEMO_SUBS    ?= 20000

.PHONY: demo test docs lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

# Generate a small operator and run the monthly job on the embedded database (no server needed).
demo: $(STAMP)
	$(BIN)/groupscope generate --out $(DEMO_DIR)/landing --months $(DEMO_MONTHS) --subscribers $(DEMO_SUBS) --seed 7
	cd $(DEMO_DIR) && ../$(BIN)/groupscope run --landing landing --period $(DEMO_PERIOD)
	cd $(DEMO_DIR) && ../$(BIN)/groupscope evaluate --truth landing_truth --period $(DEMO_PERIOD)
	cd $(DEMO_DIR) && ../$(BIN)/groupscope export fake-members --period $(DEMO_PERIOD) --out fake-members.csv
	cd $(DEMO_DIR) && ../$(BIN)/groupscope export potential-members --period $(DEMO_PERIOD) --out potential-members.csv
	cd $(DEMO_DIR) && ../$(BIN)/groupscope export group-summary --period $(DEMO_PERIOD) --out group-summary.csv
	cd $(DEMO_DIR) && ../$(BIN)/groupscope export prospect-groups --period $(DEMO_PERIOD) --out prospect-groups.csv
	cd $(DEMO_DIR) && ../$(BIN)/groupscope export worklist --period $(DEMO_PERIOD) --out worklists

test: $(STAMP)
	$(BIN)/python -m pytest -q

docs: $(STAMP)
	$(BIN)/python -m groupscope.docs

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(DEMO_DIR) groupscope_work .pytest_cache
