#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: database,
# cache and object-store servers, and the independent readers the tests use
# to check our output. Idempotent; quiet when everything is present.
set -euo pipefail

# command -> Debian package
declare -A need=(
  [redis-server]=redis-server
  [pdftotext]=poppler-utils
  [pdftoppm]=poppler-utils
  [qpdf]=qpdf
  [zbarimg]=zbar-tools
  [openssl]=openssl
  [chromium]=chromium
  [node]=nodejs
  [npm]=npm
)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
# The PostgreSQL server (a machine may have only the psql client).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "deps: installing $pkgs" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi

# MinIO is AGPL: we run the server binary in tests, we never link it.
# Built once from its Go module at a pinned version and cached.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
BIN_DIR=${ECERT_BIN_CACHE:-$HOME/.cache/ecert/bin}
if [ ! -x "$BIN_DIR/minio-$MINIO_VERSION" ]; then
  echo "deps: building MinIO server $MINIO_VERSION (about 3 minutes, cached in $BIN_DIR)" >&2
  mkdir -p "$BIN_DIR"
  tmp=$(mktemp -d)
  GOBIN="$tmp" GOFLAGS=-mod=mod go install "github.com/minio/minio@$MINIO_VERSION"
  mv "$tmp/minio" "$BIN_DIR/minio-$MINIO_VERSION"
  rm -rf "$tmp"
fi
ln -sf "$BIN_DIR/minio-$MINIO_VERSION" "$BIN_DIR/minio"

# ofd.js (npm, Apache-2.0): the independent OFD reader the certgen tests open
# our OFD files with, in headless Chromium. Pinned; cached outside the repo.
OFDJS_VERSION=0.2.6
NPM_DIR=${ECERT_NPM_CACHE:-$HOME/.cache/ecert/npm}
if [ ! -f "$NPM_DIR/node_modules/ofd.js/package.json" ] || ! grep -q "\"version\": \"$OFDJS_VERSION\"" "$NPM_DIR/node_modules/ofd.js/package.json"; then
  echo "deps: installing ofd.js@$OFDJS_VERSION into $NPM_DIR" >&2
  mkdir -p "$NPM_DIR"
  npm install --silent --no-audit --no-fund --ignore-scripts --prefix "$NPM_DIR" "ofd.js@$OFDJS_VERSION" >/dev/null
fi
