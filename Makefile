# Two commands do all set-up on a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

DEMO_DIR     ?= demo
DEMO_MONTHS  ?= 2026-09,2026-10
DEMO_PERIOD  ?= 2026-10
DEMO_SUBS    ?= 20000

.PHONY: demo test docs lint clean browser

# Debian's chromium (and a CJK font for Chinese names) for the report's browser test; installed when missing
# and when this user may (root, apt-get); otherwise that test skips locally and fails under CI=true.
BROWSER_PKGS ?= chromium fonts-wqy-microhei

# The CSS/JS that Great Expectations Data Docs load from CDNs, from the npm registry at install time
# (pinned in vendor/datadocs/package-lock.json), served from the work directory by pipelines/datadocs.py.
DOCS_ASSETS := vendor/datadocs/node_modules/.package-lock.json

$(DOCS_ASSETS): vendor/datadocs/package.json vendor/datadocs/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix vendor/datadocs --no-audit --no-fund --ignore-scripts --loglevel=error \
	    || { echo "npm ci failed: Data Docs will need the network for their CSS and JavaScript" >&2; [ "$${CI:-}" != true ]; }; \
	else echo "npm missing: Data Docs will need the network for their CSS and JavaScript" >&2; [ "$${CI:-}" != true ]; fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-* && touch $@

# Generate a small operator and run the monthly job on the embedded database (no server needed).
demo: $(STAMP) $(DOCS_ASSETS)
	$(BIN)/groupscope generate --out $(DEMO_DIR)/landing --months $(DEMO_MONTHS) --subscribers $(DEMO_SUBS) --seed 7
	for p in $$(echo $(DEMO_MONTHS) | tr , ' '); do (cd $(DEMO_DIR) && ../$(BIN)/groupscope run --landing landing --period $$p) || exit $$?; done
	cd $(DEMO_DIR) && ../$(BIN)/groupscope evaluate --truth landing_truth --period $(DEMO_PERIOD)
	cd $(DEMO_DIR) && ../$(BIN)/groupscope --quiet export fake-members --period $(DEMO_PERIOD) --out fake-members.csv
	cd $(DEMO_DIR) && ../$(BIN)/groupscope --quiet export potential-members --period $(DEMO_PERIOD) --out potential-members.csv
	cd $(DEMO_DIR) && ../$(BIN)/groupscope --quiet export group-summary --period $(DEMO_PERIOD) --out group-summary.csv
	cd $(DEMO_DIR) && ../$(BIN)/groupscope --quiet export prospect-groups --period $(DEMO_PERIOD) --out prospect-groups.csv
	cd $(DEMO_DIR) && ../$(BIN)/groupscope --quiet export worklist --period $(DEMO_PERIOD) --out worklists
	@echo
	@echo "demo done ($(DEMO_MONTHS)):"
	@echo "  report      $(CURDIR)/$(DEMO_DIR)/groupscope_work/reports/period=$(DEMO_PERIOD)/report.html"
	@echo "  lists       $(CURDIR)/$(DEMO_DIR)/*.csv and $(CURDIR)/$(DEMO_DIR)/worklists/"
	@echo "  database    $(CURDIR)/$(DEMO_DIR)/groupscope_work/reporting.duckdb (schema groupscope)"
	@echo "  Data Docs   $(CURDIR)/$(DEMO_DIR)/groupscope_work/gx/uncommitted/data_docs/local_site/index.html"
	@echo "  try         $(BIN)/python -c \"import duckdb; print(duckdb.connect('$(DEMO_DIR)/groupscope_work/reporting.duckdb', read_only=True).sql('select period, group_name, purity, market_share from groupscope.v_group_scorecard order by purity limit 5'))\""

test: $(STAMP) $(DOCS_ASSETS) browser
	$(BIN)/python -m pytest -q

browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's $(BROWSER_PKGS) for the report's browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BROWSER_PKGS) >/dev/null \
	      || { echo "could not install $(BROWSER_PKGS)" >&2; [ "$${CI:-}" != true ]; }; \
	  else echo "chromium missing and not root: the report's browser test will skip (fails under CI=true)" >&2; fi; \
	fi

docs: $(STAMP)
	$(BIN)/python -m groupscope.docs

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(DEMO_DIR) groupscope_work .pytest_cache vendor/datadocs/node_modules
