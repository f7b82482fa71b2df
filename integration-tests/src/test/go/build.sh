#!/usr/bin/env bash
# Builds the test binary of containerd's content test suite harness (contentsuite/) from Debian's
# Go and containerd 1.6 sources, offline, installing those packages first when they are missing.
#
#   build.sh OUTPUT      writes the test binary to OUTPUT
#
# Exit status: 0 built; 77 cannot be built on this machine (the reason is the last line on
# standard error: no root, no apt-get, or the packages cannot be installed); anything else is a
# failure of the build itself.
set -euo pipefail

out=${1:?usage: build.sh OUTPUT}
here=$(cd "$(dirname "$0")" && pwd)
gocode=/usr/share/gocode
suite=$gocode/src/github.com/containerd/containerd/content/testsuite
packages=(golang-go golang-github-containerd-containerd-dev)

skip() {
  echo "$*" >&2
  exit 77
}

if ! command -v go >/dev/null 2>&1 || [ ! -d "$suite" ]; then
  [ "$(id -u)" = 0 ] || skip "Go and containerd's sources are not installed" \
    "(${packages[*]}) and installing them needs root (uid $(id -u))"
  command -v apt-get >/dev/null 2>&1 || skip "Go and containerd's sources are not installed" \
    "(${packages[*]}) and there is no apt-get to install them"
  echo "installing ${packages[*]} from Debian" >&2
  apt-get update -q >&2 || skip "apt-get update failed; cannot install ${packages[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${packages[@]}" >&2 \
    || skip "apt-get install ${packages[*]} failed"
  command -v go >/dev/null 2>&1 && [ -d "$suite" ] \
    || skip "${packages[*]} installed no go command or no $suite"
fi

# GOPATH mode over Debian's sources: no module download, no network.
export GO111MODULE=off GOPATH=$gocode GOFLAGS= GOPROXY=off
if [ -z "$(go env GOCACHE 2>/dev/null)" ] || [ "$(go env GOCACHE)" = off ]; then
  export GOCACHE=$(dirname "$out")/go-cache
fi
mkdir -p "$(dirname "$out")"
cd "$here/contentsuite"
go test -c -o "$out" .
