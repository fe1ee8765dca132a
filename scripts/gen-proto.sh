#!/bin/sh
# Regenerates src/generated/ from proto/ (the CRI wire contract) with buf + ts-proto,
# both npm devDependencies. The output is committed, so a plain build needs neither.
set -eu
cd "$(dirname "$0")/.."
rm -rf src/generated
node_modules/.bin/buf generate --template buf.gen.yaml
