#!/bin/sh
# build-wasm.sh rebuilds the /verify page's offline verifier: cmd/ecert-wasm
# for js/wasm into api/web/ecert.wasm.gz (embedded in the server), copies
# the Go release's wasm_exec.js beside it and records the inputs in
# cmd/ecert-wasm/artifact.sum, which TestWasmArtifactFresh checks.
# Reproducible: -trimpath, no VCS stamp, gzip without name or time.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOOS=js GOARCH=wasm CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -buildvcs=false -o "$tmp/ecert.wasm" ./cmd/ecert-wasm
gzip -9 -n -c "$tmp/ecert.wasm" > api/web/ecert.wasm.gz
cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" api/web/wasm_exec.js
chmod 0644 api/web/wasm_exec.js
go test ./api -run '^TestWasmArtifactFresh$' -count=1 -update-wasm
echo "ecert.wasm: $(wc -c < "$tmp/ecert.wasm") bytes, gzipped $(wc -c < api/web/ecert.wasm.gz) bytes"
