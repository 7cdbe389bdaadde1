#!/usr/bin/env bash
# Sets up a fresh Linux machine for Écrêteur, then runs the demo or the test suite.
#   installers/dev.sh demo [ecreteur demo options]   simulated dams + supervision (SQLite)
#   installers/dev.sh test [pytest options]          the whole test suite, with its real peers
# Idempotent: it installs only what is missing (Debian packages, the virtual environment in
# .venv, node-opcua and Prism, and Cassandra's jars from Maven Central, in a cache folder outside
# git) and reuses everything else.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${ECRETEUR_CACHE:-$HOME/.cache/ecreteur}"
export ECRETEUR_NPM_CACHE="${ECRETEUR_NPM_CACHE:-$CACHE/npm}"
NODE_OPCUA_VERSION="2.182.2" # the last release that declares Node 20 support
PRISM_VERSION="5.16.0"        # validates the paging tests' requests against Twilio's OpenAPI spec
AXE_VERSION="4.14.1"          # the web pages' accessibility checks, run in Chromium
# Qt's offscreen platform needs the first line; a real X display (the xcb platform) the second
# (QT_DEBUG_PLUGINS=1 names a missing one); the tests run the desktop under Xvfb too.
APT_PACKAGES="libegl1 libgl1 libfontconfig1 libxkbcommon0 libdbus-1-3 fonts-dejavu-core systemd
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0
  libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxcb-xinerama0 libxkbcommon-x11-0 libx11-xcb1
  xvfb xauth python3-venv adduser chromium"  # adduser: the Debian package test; chromium: the web tests
TEST_APT_PACKAGES="mosquitto"  # the MQTT tests' broker, started by the tests on their own port

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_apt() {
  # ensure_apt [EXTRA PACKAGES]: installs what is missing of APT_PACKAGES and the extra ones
  local missing=""
  for package in $APT_PACKAGES "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
  done
  [ -z "$missing" ] && return 0
  say "installing Debian packages:$missing"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
}

ensure_venv() {
  local python="${PYTHON:-python3}"
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Python 3.11 or newer is needed (found $("$python" --version))" >&2; exit 1; }
  [ -x .venv/bin/python ] || { say "creating .venv"; "$python" -m venv .venv; }
  local stamp=".venv/.ecreteur-installed"
  local wanted
  wanted="$(cat pyproject.toml installers/constraints.txt tests/plugins/*/pyproject.toml | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    say "installing Python packages into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -c installers/constraints.txt -e ".[dev]"
    # the example plugin package (a chat channel, a card), which tests/integration/test_sources.py uses
    .venv/bin/python -m pip install -q --no-deps -e tests/plugins/ecreteur_chat
    echo "$wanted" >"$stamp"
  fi
}

ensure_npm() {
  # ensure_npm PACKAGE VERSION WHAT: installs PACKAGE@VERSION into the npm cache unless present
  local package="$1" version="$2" what="$3"
  if [ ! -f "$ECRETEUR_NPM_CACHE/node_modules/$package/package.json" ]; then
    command -v npm >/dev/null || { echo "Node.js and npm are needed for $what" >&2; exit 1; }
    say "installing $package $version into $ECRETEUR_NPM_CACHE"
    mkdir -p "$ECRETEUR_NPM_CACHE"
    npm install --prefix "$ECRETEUR_NPM_CACHE" --no-audit --no-fund --loglevel=error \
      "$package@$version" >/dev/null
  fi
}

ensure_cassandra() {
  # Apache Cassandra 5.0 jars from Maven Central into $CACHE/cassandra (outside git), once
  if [ ! -f "$CACHE/cassandra/lib/.complete" ]; then
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
      say "installing Java 17 and Maven"
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
    fi
    say "fetching Apache Cassandra from Maven Central into $CACHE/cassandra"
    ECRETEUR_CACHE="$CACHE" python3 tests/peers/cassandra/node.py fetch >/dev/null
  fi
}

command="${1:-}"
shift || true
case "$command" in
  demo)
    ensure_apt
    ensure_venv
    exec .venv/bin/ecreteur demo "$@"
    ;;
  test)
    ensure_apt $TEST_APT_PACKAGES
    ensure_venv
    ensure_npm node-opcua "$NODE_OPCUA_VERSION" "the OPC-UA interop tests"
    ensure_npm @stoplight/prism-cli "$PRISM_VERSION" "the paging tests"
    ensure_npm axe-core "$AXE_VERSION" "the web pages' accessibility tests"
    ensure_cassandra
    export ECRETEUR_CACHE="$CACHE"
    export QT_QPA_PLATFORM=offscreen
    # the test files run on several workers (pytest-xdist): each file stays on one worker, so its
    # module fixtures (a server, a browser) are built once; `-n 0` after it runs them in one process
    exec .venv/bin/python -m pytest -n "${ECRETEUR_TEST_WORKERS:-3}" --dist loadfile "$@"
    ;;
  *)
    echo "usage: installers/dev.sh demo|test [options]" >&2
    exit 2
    ;;
esac
