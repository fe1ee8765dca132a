#!/usr/bin/env bash
# One idempotent set-up for users, tests and CI: Debian packages, Node 24, npm deps, build,
# `berth` on PATH, a default CNI network. Then `daemon` or `test` runs what the README says.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

mode="${1:-}"
[ "$mode" = test ] && BERTH_SETUP_TEST=1
log() { printf 'setup: %s\n' "$*" >&2; }

# Debian packages Berth drives at run time, and those the tests use.
RUNTIME_PKGS=(runc conmon containernetworking-plugins iproute2 util-linux catatonit socat iptables attr zstd kmod procps)
TEST_PKGS=(docker-registry apache2-utils openssl busybox-static skopeo python3)

missing=()
for p in "${RUNTIME_PKGS[@]}" ${BERTH_SETUP_TEST:+"${TEST_PKGS[@]}"}; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup: need root to install: ${missing[*]}" >&2; exit 1; fi
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# docker-registry's package starts a registry on :5000 by default; Berth's tests start their own.
if [ -n "${BERTH_SETUP_TEST:-}" ] && command -v systemctl >/dev/null 2>&1 && systemctl is-active -q docker-registry 2>/dev/null; then
  systemctl stop docker-registry || true
fi

# Node 24: the system's if new enough, else the npm registry's `node` package under .tools/.
node_major() { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
# Resolved to the real binary: with .tools/bin on PATH, `node` is our own link, and linking it to
# itself below would leave a loop (bin/berth then falls back to an older system node).
NODE_BIN="$(command -v node >/dev/null && readlink -f "$(command -v node)" || true)"
if [ -z "$NODE_BIN" ] || [ "$(node_major "$NODE_BIN")" -lt 24 ]; then
  NODE_BIN="$repo/.tools/node/node_modules/node/bin/node"
  if [ ! -x "$NODE_BIN" ] || [ "$(node_major "$NODE_BIN")" -lt 24 ]; then
    log "installing Node 24 from the npm registry into .tools/node"
    mkdir -p .tools/node
    (cd .tools/node && [ -f package.json ] || echo '{"private":true}' > package.json)
    npm install --prefix .tools/node --no-save --no-audit --no-fund node@24 >/dev/null
    if [ ! -x "$NODE_BIN" ] || [ "$(node_major "$NODE_BIN")" -lt 24 ]; then
      # npm 11 holds back install scripts; the node package needs its preinstall to place the binary.
      (cd .tools/node && npm install-scripts approve node >/dev/null 2>&1 || true)
      npm install --prefix .tools/node --no-save --no-audit --no-fund --foreground-scripts node@24 >/dev/null
    fi
  fi
  [ "$(node_major "$NODE_BIN")" -ge 24 ] || { echo "setup: could not provide Node 24" >&2; exit 1; }
fi
mkdir -p .tools/bin
ln -sf "$NODE_BIN" .tools/bin/node
export PATH="$repo/.tools/bin:$PATH"

# npm dependencies from the lockfile (pure JS; no install scripts needed), then the build.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --ignore-scripts --no-audit --no-fund >/dev/null
fi
# The fuzzer's prebuilt libFuzzer addon wants glibc 2.38; on older hosts (Debian 12) this rebinds
# its two C23 symbols so the test run's fuzz pass can load it (idempotent; nothing on newer glibc).
if [ -n "${BERTH_SETUP_TEST:-}" ]; then node scripts/jazzer-glibc.mjs; fi
log "building"
node node_modules/typescript/bin/tsc -p tsconfig.json

# crictl v1.26.1, the Go reference client the interop tests run, from the shared tools beside the
# checkout (CI: ../shared/tools/crictl.gz); unpacked into the ignored .tools/cri-tools and verified.
if [ -n "${BERTH_SETUP_TEST:-}" ]; then
  crictl_gz="$repo/../shared/tools/crictl.gz"
  crictl_bin="$repo/.tools/cri-tools/crictl"
  crictl_sha=053b899776014bf5f5042c5af56445472847bfe816b90981af8f1031dbeaddef
  if ! echo "$crictl_sha  $crictl_bin" | sha256sum -c --status 2>/dev/null; then
    if [ -f "$crictl_gz" ]; then
      log "unpacking crictl from $crictl_gz"
      mkdir -p "$(dirname "$crictl_bin")"
      gunzip -c "$crictl_gz" > "$crictl_bin.tmp"
      if ! echo "$crictl_sha  $crictl_bin.tmp" | sha256sum -c --status; then
        rm -f "$crictl_bin.tmp"
        echo "setup: $crictl_gz does not unpack to crictl v1.26.1 (sha256 mismatch)" >&2
        exit 1
      fi
      chmod 755 "$crictl_bin.tmp"
      mv "$crictl_bin.tmp" "$crictl_bin"
    else
      log "no $crictl_gz: the crictl interop tests will skip (and fail under CI=true)"
    fi
  fi
fi

# `berth` on PATH for users and scripts.
if [ "$(id -u)" = 0 ]; then ln -sf "$repo/bin/berth" /usr/local/bin/berth; "$repo/bin/berth" network init >&2; fi

case "${1:-}" in
  daemon) shift; exec "$repo/bin/berth" daemon "$@" ;;
  test) shift; exec npm test -- "$@" ;;
  "") ;;
  *) echo "usage: setup.sh [daemon [flags...] | test]" >&2; exit 2 ;;
esac
