#!/bin/sh
# Install the Debian packages als needs to build and test, when any is missing.
# Runs apt-get as root; otherwise prints the exact command and fails.
set -eu
pkgs="gcc make pkg-config libopenblas-dev liblapacke-dev zlib1g-dev bats mandoc"
missing=""
for p in $pkgs; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
    *"ok installed") ;;
    *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "als: missing Debian packages:$missing" >&2
    echo "als: run: sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "als: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends $missing >/dev/null
