#!/usr/bin/env bash
# Prepare Docker for `make compose-test` on a Debian machine, from Debian's packages only.
#
#   bash scripts/docker-prepare.sh ENV_FILE
#
# Idempotent and cached between runs. Each step is skipped where its result already exists:
#   1. the engine: Debian's docker.io, dockerd started in the background when no daemon answers;
#   2. Compose v2: the plugin from the next Debian release's docker-compose package (the current
#      one ships only Compose v1), fetched with a private apt configuration so the system's apt
#      is untouched, from the mirror this machine's apt already uses;
#   3. the images docker-compose.yml and the Dockerfile start from: where python:3.11-slim,
#      rabbitmq:3.13-management and postgres:16 are not present, stand-ins built from a
#      debootstrap of Debian (scripts/standin/) are used instead.
# It writes PYTHON_IMAGE, RABBITMQ_IMAGE and POSTGRES_IMAGE (the images to use) into ENV_FILE.
# Exit 0 when Docker is ready; otherwise 1, with one line saying what is missing.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ENV_FILE="${1:?usage: docker-prepare.sh ENV_FILE}"
CACHE="${MAILPIPE_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mailpipe-docker}"
PLUGINS="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
STANDIN=mailpipe-standin
mkdir -p "$CACHE"

say() { printf 'docker-prepare: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

apt_install() {
  # One `apt-get update` per run at most, and only when something is missing.
  if [ ! -e "$CACHE/.apt-updated" ] || [ -n "$(find "$CACHE/.apt-updated" -mmin +1440)" ]; then
    as_root apt-get update -q >/dev/null && touch "$CACHE/.apt-updated"
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

# The Debian mirror and release this machine's apt is configured with, e.g.
# "http://mirror.example/debian bookworm": never written into the repository.
debian_mirror() {
  local codename
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:?}")"
  apt-get indextargets --format '$(SITE) $(RELEASE)' 2>/dev/null \
    | awk -v c="$codename" '$2 == c { print $1; exit }'
}

engine_up() { docker info >/dev/null 2>&1; }

ensure_engine() {
  engine_up && return 0
  command -v dockerd >/dev/null || { say "installing docker.io"; apt_install docker.io; }
  command -v docker >/dev/null || die "no docker client after installing docker.io"
  if ! engine_up; then
    say "starting dockerd"
    as_root sh -c 'nohup dockerd --storage-driver=overlay2 >/var/log/mailpipe-dockerd.log 2>&1 &'
    for _ in $(seq 60); do engine_up && break; sleep 1; done
  fi
  engine_up || die "dockerd did not start: see /var/log/mailpipe-dockerd.log"
}

compose_v2() { docker compose version --short 2>/dev/null | grep -q '^v\?2\.'; }

ensure_compose() {
  compose_v2 && return 0
  local apt="$CACHE/apt" mirror next=trixie
  mirror="$(debian_mirror)"
  [ -n "$mirror" ] || die "no Debian mirror in this machine's apt sources: install Docker Compose v2 by hand"
  say "fetching the Compose v2 plugin (Debian $next's docker-compose)"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/deb"
  echo "deb $mirror $next main" >"$apt/sources.list"
  local opts=(-q -o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Get::List-Cleanup=0
    -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update >/dev/null
  (cd "$apt/deb" && rm -f docker-compose_*.deb && apt-get "${opts[@]}" download docker-compose >/dev/null)
  rm -rf "$apt/x" && dpkg-deb -x "$apt"/deb/docker-compose_*.deb "$apt/x"
  mkdir -p "$PLUGINS"
  install -m 0755 "$apt/x/usr/libexec/docker/cli-plugins/docker-compose" "$PLUGINS/docker-compose"
  compose_v2 || die "the Compose v2 plugin in $PLUGINS does not run"
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# debootstrap's minimal Debian, imported as the base of every stand-in.
ensure_rootfs_image() {
  local image="$STANDIN/debian:$1" rootfs="$CACHE/rootfs-$1" mirror
  have_image "$image" && return 0
  command -v debootstrap >/dev/null || { say "installing debootstrap"; apt_install debootstrap; }
  mirror="$(debian_mirror)"
  [ -n "$mirror" ] || die "no Debian mirror in this machine's apt sources for debootstrap"
  say "debootstrap $1 (a few minutes, once)"
  as_root rm -rf "$rootfs"
  as_root debootstrap --variant=minbase "$1" "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
    || die "debootstrap failed: see $CACHE/debootstrap.log"
  as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  as_root tar -C "$rootfs" -c . | docker import - "$image" >/dev/null
  as_root rm -rf "$rootfs"
}

# Build scripts/standin/NAME on the debootstrap base unless IMAGE exists; the host's certificate
# authorities go in, so HTTPS from inside a build works wherever it works on this machine.
build_standin() {
  local name="$1" image="$2" context
  have_image "$image" && return 0
  ensure_rootfs_image bookworm
  say "building $image"
  context="$(mktemp -d)"
  cp -r "$HERE/standin/$name/." "$context/"
  cp /etc/ssl/certs/ca-certificates.crt "$context/host-ca.crt"
  DOCKER_BUILDKIT=0 docker build -q --build-arg "BASE=$STANDIN/debian:bookworm" \
    -t "$image" "$context" >"$CACHE/build-$name.log" 2>&1 || { rm -rf "$context"; die "building $image failed: see $CACHE/build-$name.log"; }
  rm -rf "$context"
}

# The real image where present, else the stand-in (built once, kept by the engine).
pick_image() {
  local var="$1" real="$2" name="$3" standin="$STANDIN/$3:$4"
  if have_image "$real"; then
    echo "$var=$real"
  else
    build_standin "$name" "$standin" && echo "$var=$standin"
  fi
}

ensure_engine
ensure_compose
{
  pick_image PYTHON_IMAGE python:3.11-slim python 3.11
  pick_image RABBITMQ_IMAGE rabbitmq:3.13-management rabbitmq 3
  pick_image POSTGRES_IMAGE postgres:16 postgres 15
} >"$ENV_FILE.tmp"
mv "$ENV_FILE.tmp" "$ENV_FILE"
say "ready: $(tr '\n' ' ' <"$ENV_FILE")"
