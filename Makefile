# StudySync — `make run` serves the API on :5000, `make test` runs the suite on every configured database.
#
#   make run     virtualenv + requirements (skipped when unchanged) → alembic upgrade head → demo college
#                → gunicorn asgi:app on 0.0.0.0:5000 (deploy/gunicorn.conf.py)
#   make test    the suite on SQLite, and on PostgreSQL / MariaDB when TEST_POSTGRES_URL / TEST_MYSQL_URL
#                are set (CI=true: a missing one is a failure). PYTEST_ARGS="-k groups -x" narrows it.
#   make bench   every bench/*.py script (BENCH_ARGS are passed to each)
#   make postman the Postman collections and docs/ (openapi.json, API.md) from the app's OpenAPI document

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements.sha256
PYTEST_ARGS ?=
BENCH_ARGS ?=
DEMO_SYSADMIN_EMAIL := sysadmin@studysync.local
DEMO_SYSADMIN_PASSWORD := Admin@1234

.PHONY: help install run migrate seed test bench clean postman

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

# The interpreter: python3.11 when it works, else python3. A half-made .venv is removed first.
$(PY):
	@rm -rf $(VENV)
	if python3.11 -c 'import sys' >/dev/null 2>&1; then base=python3.11; else base=python3; fi
	echo "Creating $(VENV) with $$($$base --version)"
	$$base -m venv $(VENV)

# pip runs only when requirements.txt differs from what was last installed (its hash in $(STAMP)).
# Wheels come from pip's own configuration (find-links/indexes); nothing is added here.
install: $(PY)
	@want=$$(sha256sum requirements.txt | cut -d' ' -f1)
	if [ "$$(cat $(STAMP) 2>/dev/null)" = "$$want" ]; then
	  echo "requirements.txt unchanged since the last install: skipping pip"
	  exit 0
	fi
	echo "Installing requirements.txt into $(VENV) (the first time takes a few minutes)"
	$(PY) -m pip install --quiet -r requirements.txt
	echo "$$want" > $(STAMP)

migrate: install
	@mkdir -p instance
	$(VENV)/bin/alembic upgrade head

# The demo sysadmin for local use, unless SYSADMIN_EMAIL/SYSADMIN_PASSWORD come from the environment
# or .env. The app creates it at start-up (and `flask --app wsgi create-sysadmin` does it by hand).
define DEMO_SYSADMIN
if [ -z "$${SYSADMIN_EMAIL:-}" ] && ! grep -qs '^SYSADMIN_EMAIL=' .env; then
  export SYSADMIN_EMAIL='$(DEMO_SYSADMIN_EMAIL)' SYSADMIN_PASSWORD='$(DEMO_SYSADMIN_PASSWORD)'
  echo "Demo sysadmin: $$SYSADMIN_EMAIL / $$SYSADMIN_PASSWORD (set SYSADMIN_EMAIL and SYSADMIN_PASSWORD to choose your own)"
else
  echo "Sysadmin from SYSADMIN_EMAIL/SYSADMIN_PASSWORD (environment or .env)"
fi
endef

seed: migrate
	@$(DEMO_SYSADMIN)
	$(VENV)/bin/flask --app wsgi seed-demo

run: migrate
	@$(DEMO_SYSADMIN)
	$(VENV)/bin/flask --app wsgi seed-demo
	echo "Serving asgi:app on http://0.0.0.0:$${PORT:-5000} (API under /api/v1, health at /api/v1/health)"
	exec $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py asgi:app

# One pytest run per backend. Exit code 5 (nothing collected) counts as a failure, so an empty or
# mis-collected run can never pass; the summary names every backend that ran, failed or was skipped.
test: install
	@ci=$$( [ "$${CI:-}" = "true" ] && echo yes || echo no )
	logs=$$(mktemp -d)
	trap 'rm -rf "$$logs"' EXIT
	failed=() passed=() skipped=()
	for backend in sqlite postgres mysql; do
	  case $$backend in
	    postgres) var=TEST_POSTGRES_URL ;;
	    mysql) var=TEST_MYSQL_URL ;;
	    *) var= ;;
	  esac
	  if [ -n "$$var" ] && [ -z "$${!var:-}" ]; then
	    if [ "$$ci" = yes ]; then
	      echo "FAIL: CI=true but $$var is not set: the $$backend run is required in CI" >&2
	      failed+=("$$backend ($$var not set)")
	    else
	      skipped+=("$$backend ($$var not set)")
	    fi
	    continue
	  fi
	  echo
	  echo "=================== pytest on $$backend ==================="
	  start=$$SECONDS
	  set +e
	  TEST_DATABASE=$$backend $(PY) -m pytest -q -rfEs $(PYTEST_ARGS) 2>&1 | tee "$$logs/$$backend.log"
	  code=$${PIPESTATUS[0]}
	  set -e
	  summary=$$(grep -E '^(=+ )?([0-9]+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed)\b|no tests ran)' "$$logs/$$backend.log" | tail -n 1 | sed -E 's/^=+ //; s/ =+$$//' || true)
	  reason=$$(grep -oE '(Exit|Interrupted): .*[^! ]' "$$logs/$$backend.log" | tail -n 1 || true)
	  summary="$${summary:-no pytest summary}$${reason:+ — $$reason} [$$((SECONDS - start))s wall]"
	  if [ "$$code" -eq 0 ]; then
	    passed+=("$$backend: $$summary")
	  elif [ "$$code" -eq 5 ]; then
	    failed+=("$$backend: no tests collected (pytest exit 5)")
	  else
	    failed+=("$$backend: $$summary (pytest exit $$code)")
	  fi
	done
	echo
	echo "=================== make test summary ==================="
	for line in "$${passed[@]}"; do echo "  passed   $$line"; done
	for line in "$${failed[@]}"; do echo "  FAILED   $$line"; done
	for line in "$${skipped[@]}"; do echo "  skipped  $$line"; done
	if [ $${#skipped[@]} -gt 0 ]; then
	  echo "  (set TEST_POSTGRES_URL / TEST_MYSQL_URL to run the skipped databases; see README.md)"
	fi
	[ $${#failed[@]} -eq 0 ]

bench: install
	@shopt -s nullglob
	scripts=(bench/[!_]*.py)
	if [ $${#scripts[@]} -eq 0 ]; then echo "No benchmarks in bench/ yet"; exit 0; fi
	status=0
	for script in "$${scripts[@]}"; do
	  echo
	  echo "=================== $$script ==================="
	  $(PY) "$$script" $(BENCH_ARGS) || { echo "FAILED: $$script" >&2; status=1; }
	done
	exit $$status

# The whole API as a Postman collection (by tag, named by summary, bearer auth from {{token}}), the flow
# collections (scripts/postman_flows.py) and the reference in docs/, all from the OpenAPI document.
postman: install
	$(PY) scripts/postman.py

clean:
	rm -rf $(VENV) .pytest_cache
