.PHONY: test build wasm wasm-test demo services-up services-down fuzz bench load

build:
	go build -o bin/ecert ./cmd/ecert

## wasm: rebuild the /verify page's offline verifier (api/web/ecert.wasm.gz, committed) after changing
## cmd/ecert-wasm or what it imports; TestWasmArtifactFresh says when
wasm:
	scripts/build-wasm.sh

## wasm-test: the offline verifier's own tests, run by node in js/wasm
wasm-test:
	GOOS=js GOARCH=wasm go test -exec="$$(go env GOROOT)/lib/wasm/go_js_wasm_exec" ./cmd/ecert-wasm

## test: go vet + go test -race against real PostgreSQL, Redis and MinIO (installed and started as needed)
test:
	scripts/test.sh

## demo: the quick start's first command
demo:
	go run ./cmd/ecert demo

services-up:
	scripts/deps.sh && ECERT_SVC_DIR=/tmp/ecert-dev-services scripts/services.sh up

services-down:
	ECERT_SVC_DIR=/tmp/ecert-dev-services scripts/services.sh down

bench:
	go test -run '^$$' -bench . -benchmem ./...
	$(MAKE) load

## load: the HTTP service under load on loopback (docs/api.md#load): embedded defaults, then
## PostgreSQL + MinIO + Redis when scripts/services.sh has started them
load: build
	go run ./cmd/ecert-load -ecert bin/ecert -backend embedded $(LOADFLAGS)
	if [ -f /tmp/ecert-dev-services/env ]; then . /tmp/ecert-dev-services/env && \
		go run ./cmd/ecert-load -ecert bin/ecert -backend services $(LOADFLAGS); fi
