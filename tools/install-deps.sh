#!/usr/bin/env bash
# install-deps.sh: bring a fresh Debian 12 everything tally builds and tests with.
# Idempotent and quiet when everything is already there; needs root (or sudo) only
# when something is missing.
#   --build   only what compiling tallyd and tallyctl needs (the image's build stage)
set -euo pipefail

PKGS=(
    build-essential cmake pkg-config
    libuv1-dev node-llhttp libmsgpack-dev libc-ares-dev libcmocka-dev libsodium-dev
)
if [ "${1:-}" != --build ]; then
    PKGS+=(clang clang-format dnsmasq-base bind9-dnsutils curl valgrind iproute2 procps python3)
    # promtool, which checks /metrics in tests/process/test_metrics_logs.sh
    PKGS+=(prometheus)
    # The browser test drives chromium with puppeteer-core from npm. A node
    # installed another way (nodesource, nvm) is kept: Debian's npm would
    # fight it.
    PKGS+=(chromium)
    command -v node >/dev/null && command -v npm >/dev/null || PKGS+=(nodejs npm)
    # nftables: partitions in the process tests; libfaketime: a pod with a wrong clock
    PKGS+=(nftables libfaketime)
fi

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
