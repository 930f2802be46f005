#!/usr/bin/env bash
# Installs Specula as systemd services: the binary and its bundled model and corpus, a system user,
# the units, their environment files, the worker token and an API key. Idempotent: a second run
# replaces the binary, resources and units, and keeps configuration, token and keys as they are.
#
#   Deploy/install.sh [--prefix DIR] [--sysconfdir DIR] [--unitdir DIR] [--user NAME] [--binary PATH]
#                     [--workers N] [--no-reload] [--dry-run]
#
#   --prefix DIR      binary in DIR/bin, model and corpus in DIR/share/specula (default /opt/specula)
#   --sysconfdir DIR  environment files, token and keys (default /etc/specula)
#   --unitdir DIR     where the unit files go (default /etc/systemd/system)
#   --user NAME       the service account; created as a system user when missing (default specula)
#   --binary PATH     the specula executable, with Specula_specula.resources beside it
#                     (default: .build/release/specula of this checkout; run `swift build -c release`)
#   --workers N       create worker-1.env ... worker-N.env when missing (default 1)
#   --no-reload       skip `systemctl daemon-reload`
#   --dry-run         print what would be done, change nothing
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix=/opt/specula
sysconfdir=/etc/specula
unitdir=/etc/systemd/system
user=specula
binary="$repo/.build/release/specula"
workers=1
reload=1
dry_run=0

die() { echo "install.sh: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix|--sysconfdir|--unitdir|--user|--binary|--workers)
      [ $# -ge 2 ] || die "$1 needs a value"
      case "$1" in
        --prefix) prefix="$2" ;; --sysconfdir) sysconfdir="$2" ;; --unitdir) unitdir="$2" ;;
        --user) user="$2" ;; --binary) binary="$2" ;; --workers) workers="$2" ;;
      esac
      shift 2 ;;
    --no-reload) reload=0; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
[[ "$workers" =~ ^[0-9]+$ ]] || die "--workers '$workers': expected a number"
for dir in "$prefix" "$sysconfdir" "$unitdir"; do
  [[ "$dir" == /* ]] || die "'$dir' is not an absolute path"
done
resources="$(dirname "$binary")/Specula_specula.resources"
[ -x "$binary" ] || die "no executable at $binary; build it with 'swift build -c release' or pass --binary"
[ -d "$resources/models" ] && [ -d "$resources/corpus" ] \
  || die "the bundled model and corpus are not beside the binary ($resources/models, $resources/corpus)"

# Every change goes through run: printed with --dry-run, executed otherwise.
run() {
  if [ "$dry_run" -eq 1 ]; then echo "+ $*"; else "$@"; fi
}
# Writes stdin to a file with a mode (and owner, as root) unless --dry-run.
write_file() { # path mode
  if [ "$dry_run" -eq 1 ]; then echo "+ write $1 (mode $2)"; cat >/dev/null; return; fi
  local tmp; tmp="$(mktemp "$1.XXXXXX")"
  cat >"$tmp"
  chmod "$2" "$tmp"
  if [ "$(id -u)" -eq 0 ]; then chown "root:$group" "$tmp"; fi
  mv -f "$tmp" "$1"
}
# Replaces the default paths in a unit or an example file with the chosen ones.
relocate() {
  sed -e "s#/opt/specula#$prefix#g" -e "s#/etc/specula#$sysconfdir#g" -e "s#^User=specula\$#User=$user#" \
      -e "s#^Group=specula\$#Group=$group#" "$1"
}
random_secret() { head -c 32 /dev/urandom | base64 | tr -d '=+/\n'; }

# 1. The service account.
if id "$user" >/dev/null 2>&1; then
  group="$(id -gn "$user")"
  echo "user $user exists (group $group)"
else
  group="$user"
  nologin="$(command -v nologin || echo /usr/sbin/nologin)"
  run useradd --system --user-group --no-create-home --home-dir /var/lib/specula --shell "$nologin" "$user"
fi

# 2. Binary and resources (replaced as a whole, so files of an older model do not linger).
run install -d -m 0755 "$prefix/bin" "$prefix/share/specula" "$prefix/share/doc/specula"
run install -m 0755 "$binary" "$prefix/bin/specula.new"
run mv -f "$prefix/bin/specula.new" "$prefix/bin/specula"
for part in models corpus; do
  run rm -rf "$prefix/share/specula/$part.new"
  run cp -R "$resources/$part" "$prefix/share/specula/$part.new"
  run chmod -R u=rwX,go=rX "$prefix/share/specula/$part.new"
  run rm -rf "$prefix/share/specula/$part"
  run mv "$prefix/share/specula/$part.new" "$prefix/share/specula/$part"
done
run install -m 0644 "$repo/Deploy/README.md" "$repo/Deploy/configuration.md" "$prefix/share/doc/specula/"

# 3. Configuration, token and keys: created when missing, never overwritten; modes fixed every run.
run install -d -m 0750 "$sysconfdir"
if [ "$(id -u)" -eq 0 ]; then run chown "root:$group" "$sysconfdir"; fi
secure() { # path: readable by root and the service group only
  run chmod 0640 "$1"
  if [ "$(id -u)" -eq 0 ]; then run chown "root:$group" "$1"; fi
}
create_once() { # path mode source-command...
  local path="$1" mode="$2"; shift 2
  if [ -e "$path" ]; then
    echo "keeping $path"
    [ "$dry_run" -eq 1 ] || secure "$path"
  else
    "$@" | write_file "$path" "$mode"
  fi
}
create_once "$sysconfdir/worker-token" 0640 random_secret
create_once "$sysconfdir/api-keys" 0640 sh -c "echo \"sk-specula-\$(head -c 24 /dev/urandom | base64 | tr -d '=+/\n')\""
create_once "$sysconfdir/router.env" 0640 relocate "$repo/Deploy/router.env"
for ((i = 1; i <= workers; i++)); do
  create_once "$sysconfdir/worker-$i.env" 0640 relocate "$repo/Deploy/worker.env"
done

# 4. Units (ours: always replaced).
run install -d -m 0755 "$unitdir"
for unit in specula-router.service specula-worker@.service; do
  relocate "$repo/Deploy/$unit" | write_file "$unitdir/$unit" 0644
done
if [ "$reload" -eq 1 ]; then
  if [ -d /run/systemd/system ]; then run systemctl daemon-reload; else echo "systemd is not running: no daemon-reload"; fi
fi

cat <<DONE
installed: $prefix/bin/specula, $prefix/share/specula/{models,corpus}, units in $unitdir
configuration: $sysconfdir/router.env, $sysconfdir/worker-N.env (API keys: $sysconfdir/api-keys)
start:  systemctl enable --now specula-router.service specula-worker@1.service
check:  systemctl status specula-router specula-worker@1; journalctl -u specula-worker@1 -f
DONE
