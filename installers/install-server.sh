#!/usr/bin/env bash
# Installs the Écrêteur server on a Linux VM as a hardened systemd service.
#   sudo installers/install-server.sh [PREFIX]      (default PREFIX: /opt/ecreteur)
# Creates the system user `ecreteur`, a virtual environment in PREFIX with this checkout
# installed (versions pinned by installers/constraints.txt), /etc/ecreteur/site.yaml from the
# demo site unless one exists, and the unit /etc/systemd/system/ecreteur.service.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX="${1:-/opt/ecreteur}"
[ "$(id -u)" = 0 ] || { echo "run as root (sudo)" >&2; exit 1; }

id ecreteur >/dev/null 2>&1 || useradd --system --home-dir /var/lib/ecreteur --shell /usr/sbin/nologin ecreteur
python3 -m venv "$PREFIX"
"$PREFIX/bin/pip" install -q --upgrade pip
"$PREFIX/bin/pip" install -q -c installers/constraints.txt .
install -d -m 0755 /etc/ecreteur
if [ ! -f /etc/ecreteur/site.yaml ]; then
  install -m 0640 -g ecreteur resources/sites/demo.yaml /etc/ecreteur/site.yaml
  sed -i 's|^  path: demo.db|  path: ecreteur.db|' /etc/ecreteur/site.yaml
fi
sed "s|@PREFIX@|$PREFIX|g" installers/ecreteur.service.in >/etc/systemd/system/ecreteur.service
systemd-analyze verify /etc/systemd/system/ecreteur.service
systemctl daemon-reload
cat <<MSG
Installed. Next:
  edit /etc/ecreteur/site.yaml (check it: $PREFIX/bin/ecreteur check-config /etc/ecreteur/site.yaml)
  sudo -u ecreteur $PREFIX/bin/ecreteur token create admin --scope admin \\
       --config /etc/ecreteur/site.yaml --data-dir /var/lib/ecreteur
  systemctl enable --now ecreteur && journalctl -u ecreteur -f
MSG
