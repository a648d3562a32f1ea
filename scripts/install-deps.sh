#!/bin/sh
# Installs the Debian packages gitstore needs to build, test and run,
# skipping the ones already present. Needs root (or sudo) on Debian 12.
set -eu
PKGS="gcc make pkg-config git curl jq ca-certificates
libgit2-dev libsqlite3-dev libmicrohttpd-dev libjansson-dev libyaml-dev zlib1g-dev
libssl-dev libcurl4-openssl-dev libcmocka-dev libpcre2-dev
python3 python3-jsonschema perl hyperfine clang libclang-rt-14-dev
libnats-dev nats-server"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
