#!/usr/bin/env bash
# Installs what plumb needs to build and test on Debian. Idempotent: packages already
# present are left alone, and apt-get runs only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang-format
  libcurl4-openssl-dev libyaml-dev libjansson-dev libssl-dev liblmdb-dev lmdb-utils
  libexpat1-dev libcriterion-dev
  curl ca-certificates python3
  valgrind bc time  # bench/: callgrind instruction counts, arithmetic, peak memory
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The end-to-end tests need moto's server, the aws CLI and boto3 (see DESIGN.md §8).
# They come with the machine's Python; say clearly when they do not.
for tool in moto_server aws; do
  command -v "$tool" >/dev/null 2>&1 || echo "setup: warning: '$tool' not found; end-to-end tests will fail" >&2
done
python3 -c 'import boto3, botocore' 2>/dev/null || echo "setup: warning: python3 cannot import boto3/botocore" >&2
exit 0
