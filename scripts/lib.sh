# Shared by scripts/run, scripts/test and bench/run. Source it; do not run it.
# Everything here installs or starts what it needs itself, from Debian's packages and PyPI.

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
apt_packages() {
  log "installing $* from the system packages"
  # Bounded, like every stage: a stalled mirror fails the run instead of hanging it.
  if [ -z "$apt_updated" ]; then
    as_root timeout 600 env DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=3 update -qq
    apt_updated=1
  fi
  as_root timeout 1200 env DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=3 install -y -qq --no-install-recommends "$@" >/dev/null
}

# apt_install <command that proves presence> <package>...
apt_install() {
  local probe="$1"; shift
  command -v "$probe" >/dev/null 2>&1 || apt_packages "$@"
}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] && echo "$dir" && return 0
  command -v pg_config >/dev/null 2>&1 && pg_config --bindir && return 0
  return 1
}

ensure_postgresql() {
  if ! pg_bin >/dev/null || [ ! -x "$(pg_bin)/initdb" ]; then
    apt_packages postgresql
  fi
  # Debian's package starts its own cluster; Statusbro never uses it.
}

# libpq's headers and pkg-config file: the build links libpq to read connection settings as psql does.
ensure_libpq() {
  if ! pkg-config --exists libpq 2>/dev/null || [ ! -f "$(pkg-config --variable=includedir libpq 2>/dev/null)/libpq-fe.h" ]; then
    apt_packages libpq-dev pkg-config
  fi
}

ensure_swift() {
  command -v swift >/dev/null 2>&1 || { echo "Swift 6.x is required: https://www.swift.org/install/" >&2; exit 1; }
}

# Runs a command as the user that owns the test cluster (postgres when we are root).
as_cluster_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Starts a throwaway PostgreSQL cluster for tests or benchmarks and exports its URL in
# STATUSBRO_TEST_DATABASE_URL. Durability is off (fsync) unless DURABLE=1: this data is disposable.
start_test_cluster() {
  ensure_postgresql
  local bin; bin=$(pg_bin)
  TEST_CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/statusbro-cluster.XXXXXX")
  chmod 755 "$TEST_CLUSTER_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$TEST_CLUSTER_DIR"
  TEST_CLUSTER_PORT=$(free_port)
  as_cluster_user "$bin/initdb" -D "$TEST_CLUSTER_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${DURABLE:-0}" = "1" ] && durability=""
  as_cluster_user "$bin/pg_ctl" -D "$TEST_CLUSTER_DIR/data" -l "$TEST_CLUSTER_DIR/server.log" -w -o \
    "-p $TEST_CLUSTER_PORT -k $TEST_CLUSTER_DIR -c listen_addresses=127.0.0.1 -c max_connections=600 -c shared_buffers=256MB $durability ${EXTRA_PG_OPTIONS:-}" \
    start >/dev/null
  export STATUSBRO_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$TEST_CLUSTER_PORT/postgres"
  export TEST_CLUSTER_DIR TEST_CLUSTER_PORT
  log "test PostgreSQL on port $TEST_CLUSTER_PORT ($TEST_CLUSTER_DIR)"
}

stop_test_cluster() {
  if [ -n "${TEST_CLUSTER_DIR:-}" ] && [ -d "$TEST_CLUSTER_DIR/data" ]; then
    as_cluster_user "$(pg_bin)/pg_ctl" -D "$TEST_CLUSTER_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$TEST_CLUSTER_DIR"
  fi
}
