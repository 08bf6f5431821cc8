# The two commands of the README:
#   make run   – create the venv, migrate the SQLite default, seed the demo, serve on :8000
#   make test  – the whole test suite (DATABASE_URL picks PostgreSQL, as CI does)
#   make test-fast – the same without the slow tests (browser, SIP, schemathesis)
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast venv lint format check bench clean sip-edge route-service

$(BIN)/.installed: requirements.txt requirements-dev.txt
	@command -v $(PY) >/dev/null 2>&1 || { echo "need $(PY)"; exit 1; }
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed

run: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Open http://$(HOST):$(PORT)/ and log in with one of the logins above."
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The quick subset: everything but the tests marked slow (browser, SIP, schemathesis).
test-fast: venv
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check: venv
	$(BIN)/python manage.py makemigrations --check --dry-run

# The route service (README "Production notes"): the host's one routing index, for the SIP
# edge (make sip-edge API_URL=http://127.0.0.1:8701). Snapshots need PostgreSQL.
ROUTE_LISTEN ?= 127.0.0.1:8701
ROUTE_SNAPSHOT_DIR ?=
route-service: venv
	exec $(BIN)/python manage.py route_service --listen $(ROUTE_LISTEN) \
	  $(if $(ROUTE_SNAPSHOT_DIR),--snapshot-dir $(ROUTE_SNAPSHOT_DIR))

# The SIP edge (README "SIP edge"): Kamailio in the foreground, asking the route service of
# this host (make route-service) in RESP.
#   VMGATE_API_TOKEN=<key from manage.py create_api_token USER> make sip-edge
SIP_LISTEN ?= 127.0.0.1:5060
API_URL ?= http://$(ROUTE_LISTEN)
SIP_EDGE_DIR ?= .sip-edge
# Shared memory (MB) for Kamailio: it keeps each transaction a few seconds; 64 (its
# default) runs out near 1,200 calls/s.
SIP_SHM_MB ?= 1024
# The app's database: the edge reads the authorized networks and max_cps from it.
SIP_DB_URL ?= $(or $(VMGATE_DB_URL),$(DATABASE_URL),sqlite:///$(CURDIR)/db.sqlite3)
sip-edge:
	@test -n "$$VMGATE_API_TOKEN$$VMGATE_API_TOKEN_FILE" || { \
	  echo "set VMGATE_API_TOKEN (or VMGATE_API_TOKEN_FILE): python manage.py create_api_token USER"; exit 2; }
	python3 deploy/kamailio/render.py $(SIP_EDGE_DIR) --listen $(SIP_LISTEN) --api-url $(API_URL) \
	  --db-url $(SIP_DB_URL)
	exec $(SIP_EDGE_DIR)/run -m $(SIP_SHM_MB)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .sip-edge
