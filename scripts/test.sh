#!/usr/bin/env bash
# The test command behind `make test`: installs what is missing, starts
# throwaway PostgreSQL, Redis and MinIO servers on loopback, runs go vet and
# the race-enabled test suite against them, and stops the servers afterwards.
# With CI=true every integration test must find its server: none may skip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
export ECERT_SVC_DIR=${ECERT_SVC_DIR:-$(mktemp -d /tmp/ecert-svc.XXXXXX)}
trap 'scripts/services.sh down' EXIT
scripts/services.sh up
# shellcheck disable=SC1091
source "$ECERT_SVC_DIR/env"
export ECERT_REQUIRE_SERVICES=1
go vet ./...
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
go test -race -timeout 40m ${GOTESTFLAGS:-} ./...
