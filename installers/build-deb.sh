#!/usr/bin/env bash
# Builds the Debian package of Écrêteur (desktop and server in one): dist/ecreteur_VERSION_ARCH.deb
#   installers/build-deb.sh [OUTPUT_DIR]
# It carries the application and every dependency as wheels (built here from PyPI, pinned by
# installers/constraints.txt); installing it builds /opt/ecreteur/venv from them without network,
# creates the `ecreteur` service user and /var/lib/ecreteur, and installs the hardened systemd
# unit, /etc/ecreteur/site.yaml (the demo site, to edit), a .desktop entry and its icon.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="$(realpath -m "${1:-dist}")"
PYTHON="${PYTHON:-.venv/bin/python}"
VERSION="$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
ARCH="$(dpkg --print-architecture)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/DEBIAN" "$stage/opt/ecreteur/wheels" "$stage/etc/ecreteur" "$stage/lib/systemd/system" \
  "$stage/usr/bin" "$stage/usr/share/applications" "$stage/usr/share/icons/hicolor/scalable/apps"
"$PYTHON" -m pip wheel --quiet --disable-pip-version-check -c installers/constraints.txt \
  -w "$stage/opt/ecreteur/wheels" ".[hmi]"
install -m 0644 resources/sites/demo.yaml "$stage/etc/ecreteur/site.yaml"
sed "s|@PREFIX@|/opt/ecreteur/venv|g" installers/ecreteur.service.in >"$stage/lib/systemd/system/ecreteur.service"
ln -s /opt/ecreteur/venv/bin/ecreteur "$stage/usr/bin/ecreteur"
install -m 0644 installers/debian/ecreteur.desktop installers/debian/ecreteur-demo.desktop \
  "$stage/usr/share/applications/"
install -m 0644 resources/icons/ecreteur.svg "$stage/usr/share/icons/hicolor/scalable/apps/ecreteur.svg"
install -m 0755 installers/debian/postinst installers/debian/prerm installers/debian/postrm "$stage/DEBIAN/"
echo /etc/ecreteur/site.yaml >"$stage/DEBIAN/conffiles"
size="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@SIZE@|$size|" installers/debian/control.in \
  >"$stage/DEBIAN/control"
mkdir -p "$OUT"
# gzip, not dpkg's default xz: the payload is mostly wheels, zip files already, which xz spends
# a minute of CPU on to shrink by a few per cent
dpkg-deb --root-owner-group -Zgzip --build "$stage" "$OUT/ecreteur_${VERSION}_${ARCH}.deb" >/dev/null
echo "$OUT/ecreteur_${VERSION}_${ARCH}.deb"
