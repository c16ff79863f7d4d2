#!/usr/bin/env bash
# A bounded schemathesis pass over the whole /api/v1 OpenAPI document, once per role, on each database
# named on the command line (sqlite, postgres, mysql; default: all three). 0 responses >= 500, or it fails.
#
#   tests/fuzz/run.sh [sqlite] [postgres] [mysql]
#
# postgres/mysql use TEST_POSTGRES_URL / TEST_MYSQL_URL (as `make test` does) and DROP EVERY TABLE in them.
# The app runs under gunicorn with deploy/gunicorn.conf.py on FUZZ_PORT, rate limits off (the pass would
# otherwise see mostly 429s). Only the status is checked (not_a_server_error): the spec does not yet
# describe the error envelope, so schema-conformance checks would fail on every error answer.
# The logout routes are left out: they end the fuzzer's own session (test_auth_sessions.py covers them).
# A failure prints the request that reproduces it (a curl command) and the report lands in
# $FUZZ_REPORT_DIR. Budget per role and database: FUZZ_MAX_EXAMPLES cases per operation, at most
# FUZZ_MAX_SECONDS seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=${PY:-.venv/bin/python}
ST=${ST:-.venv/bin/schemathesis}
PORT=${FUZZ_PORT:-5290}
MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-15}
MAX_SECONDS=${FUZZ_MAX_SECONDS:-45}
SEED=${FUZZ_SEED:-16}
REPORT_DIR=${FUZZ_REPORT_DIR:-$(mktemp -d /tmp/studysync-fuzz.XXXXXX)}
SECRET="test-secret-key-that-is-long-enough-for-hs256"  # tests/conftest.py TEST_SECRET: the seed signs with it
ROLES=(sysadmin admin teacher student)
backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres mysql)

log() { printf '[fuzz] %s\n' "$*"; }

server_pid=
stop_server() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
    fi
}
trap stop_server EXIT

database_url() {
    case $1 in
        sqlite) echo "sqlite:///$REPORT_DIR/fuzz.db" ;;
        postgres) echo "${TEST_POSTGRES_URL:?TEST_POSTGRES_URL is not set}" ;;
        mysql) echo "${TEST_MYSQL_URL:?TEST_MYSQL_URL is not set}" ;;
        *) echo "unknown backend $1 (sqlite, postgres or mysql)" >&2; return 2 ;;
    esac
}

failed=()
summary=()
for backend in "${backends[@]}"; do
    start=$SECONDS
    url=$(database_url "$backend")
    log "$backend: migrating and seeding"
    tokens=$($PY -m tests.fuzz.seed "$url")

    DATABASE_URL=$url JWT_SECRET_KEY=$SECRET BCRYPT_ROUNDS=4 EMBEDDING_MODEL=hashing RATELIMIT_ENABLED=false \
        REDIS_URL= SYSADMIN_EMAIL= PORT=$PORT WEB_CONCURRENCY=1 GUNICORN_THREADS=8 \
        .venv/bin/gunicorn -c deploy/gunicorn.conf.py --bind "127.0.0.1:$PORT" asgi:app \
        >"$REPORT_DIR/gunicorn-$backend.log" 2>&1 &
    server_pid=$!

    status=0
    for role in "${ROLES[@]}"; do
        token=$($PY -c "import json, sys; print(json.load(sys.stdin)['$role'])" <<<"$tokens")
        log "$backend: $role (at most $MAX_EXAMPLES cases per operation, ${MAX_SECONDS}s)"
        "$ST" run "http://127.0.0.1:$PORT/api/v1/openapi.json" \
            --wait-for-schema 60 \
            --header "Authorization: Bearer $token" \
            --checks not_a_server_error \
            --phases examples,coverage,fuzzing \
            --max-examples "$MAX_EXAMPLES" --max-time "$MAX_SECONDS" --seed "$SEED" \
            --exclude-path-regex '/logout' \
            --suppress-health-check all --request-timeout 20 --workers 1 \
            --report junit --report-junit-path "$REPORT_DIR/$backend-$role.xml" \
            || status=$?
        if [ "$status" -ne 0 ]; then
            failed+=("$backend/$role")
            status=0
        fi
    done
    stop_server
    if grep -q "Traceback" "$REPORT_DIR/gunicorn-$backend.log"; then
        log "$backend: the server logged tracebacks:"
        grep -B2 -A30 "Traceback" "$REPORT_DIR/gunicorn-$backend.log" | head -80
        failed+=("$backend (server tracebacks)")
    fi
    summary+=("$backend: $((SECONDS - start))s")
done

log "took: ${summary[*]} (reports in $REPORT_DIR)"
if [ ${#failed[@]} -gt 0 ]; then
    log "FAILED: ${failed[*]}"
    exit 1
fi
log "0 responses >= 500"
