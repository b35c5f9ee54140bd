#!/usr/bin/env bash
# Installs what CareContext needs on a Debian machine and is safe to run again:
# a JDK 17 + Maven, PostgreSQL server binaries, and the pgvector extension.
# pgvector is not packaged for Debian 12, so it is built from Debian's next
# release's source package against the installed server headers, using an apt
# configuration of its own that does not touch the system's package set.
set -euo pipefail

log() { printf '[prerequisites] %s\n' "$*" >&2; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="__none__"; fi
fi
need_root() {
  if [ "$SUDO" = "__none__" ]; then
    log "need root (or sudo) to install: $*"
    log "install them yourself, or run this script as root, then try again"
    exit 1
  fi
}
apt_updated=0
apt_install() {
  need_root "$@"
  if [ "$apt_updated" -eq 0 ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- JDK and Maven ---------------------------------------------------------
if ! command -v javac >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
  log "installing JDK 17 and Maven"
  apt_install openjdk-17-jdk-headless maven
fi

# --- SoftHSM -----------------------------------------------------------------
# A software PKCS#11 token: the tests of the key-encryption key held in a token (Pkcs11KeyProvider)
# run against it. Serving needs it only when CARECONTEXT_KEK_PKCS11_LIBRARY names it.
if [ ! -f /usr/lib/softhsm/libsofthsm2.so ] || ! command -v softhsm2-util >/dev/null 2>&1; then
  log "installing SoftHSM (a PKCS#11 token for the key-provider tests)"
  apt_install softhsm2
fi

# --- PostgreSQL server -----------------------------------------------------
pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}
if ! pg_bindir >/dev/null; then
  log "installing PostgreSQL server"
  apt_install postgresql
fi
BIN=$(pg_bindir)
MAJOR=$(basename "$(dirname "$BIN")")
SHAREDIR=$("$BIN/postgres" -V >/dev/null && echo "/usr/share/postgresql/$MAJOR")

# --- pgvector ---------------------------------------------------------------
if [ -f "$SHAREDIR/extension/vector.control" ] && [ -f "/usr/lib/postgresql/$MAJOR/lib/vector.so" ]; then
  log "pgvector already installed for PostgreSQL $MAJOR"
  exit 0
fi
log "building pgvector for PostgreSQL $MAJOR (takes a few seconds)"
if ! dpkg -s "postgresql-server-dev-$MAJOR" >/dev/null 2>&1; then
  apt_install "postgresql-server-dev-$MAJOR" make gcc dpkg-dev
fi
command -v dpkg-source >/dev/null 2>&1 || apt_install dpkg-dev
command -v make >/dev/null 2>&1 || apt_install make gcc

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/sources" "$work/lists/partial" "$work/archives/partial"
# The source package comes from the Debian archive this machine already uses (its first "debian"
# URI in /etc/apt), so a local mirror or proxy serves it too.
mirror=$( { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{for (i = 2; i <= NF; i++) print $i}'
            grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | sed 's/\[[^]]*\]//' | awk '{print $2}'
          } | grep -E '/debian/?$' | head -n1 || true)
if [ -z "$mirror" ]; then
  log "no Debian archive found in /etc/apt to fetch pgvector's source from: add one, or install pgvector for PostgreSQL $MAJOR yourself"
  exit 1
fi
cat > "$work/sources/pgvector-src.sources" <<SRC
Types: deb-src
URIs: ${mirror%/}
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
APT_OPTS=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$work/sources"
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache::Archives=$work/archives"
          -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
apt-get "${APT_OPTS[@]}" update -qq
( cd "$work" && apt-get "${APT_OPTS[@]}" source -qq --download-only pgvector >/dev/null )
dsc=$(ls "$work"/pgvector_*.dsc | head -n1)
( cd "$work" && dpkg-source -x --no-check "$dsc" src >/dev/null )
PG_CONFIG="/usr/lib/postgresql/$MAJOR/bin/pg_config"
[ -x "$PG_CONFIG" ] || PG_CONFIG=$(command -v pg_config)
make -s -C "$work/src" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null
if [ -n "$SUDO" ] && [ "$SUDO" != "__none__" ]; then
  $SUDO make -s -C "$work/src" PG_CONFIG="$PG_CONFIG" install >/dev/null
else
  need_root "pgvector (make install)"
  make -s -C "$work/src" PG_CONFIG="$PG_CONFIG" install >/dev/null
fi
[ -f "$SHAREDIR/extension/vector.control" ] || { log "pgvector build finished but vector.control is missing"; exit 1; }
log "pgvector installed for PostgreSQL $MAJOR"
