# Shared by run.sh and test.sh: installs what is missing and manages a private PostgreSQL server.
# Sourced, not run.

as_root() { [[ "$(id -u)" == 0 ]]; }

apt_install() {
  as_root || { echo "setup: '$*' is missing and only root can install it (apt-get install -y $*)" >&2; exit 2; }
  echo "setup: installing $* with apt-get..."
  if [[ -z "${_apt_updated-}" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    _apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The edge's sandbox (bubblewrap) and, for the tests of the approval page, a headless browser (Debian's chromium).
ensure_bubblewrap() {
  command -v bwrap >/dev/null 2>&1 || apt_install bubblewrap
}

ensure_chromium() {
  command -v chromium >/dev/null 2>&1 || apt_install chromium
}

ensure_dotnet() {
  command -v dotnet >/dev/null 2>&1 || { echo "setup: the .NET 10 SDK is required (dotnet not found on PATH)" >&2; exit 2; }
}

# Finds initdb/pg_ctl on PATH or in Debian's versioned directory, installing PostgreSQL when neither has them.
pg_bin_dir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$dir" && -x "$dir/pg_ctl" ]] && echo "$dir"
}

ensure_postgres_binaries() {
  if [[ -z "$(pg_bin_dir)" ]]; then
    apt_install postgresql postgresql-client
  fi
  PG_BIN=$(pg_bin_dir)
  [[ -n "$PG_BIN" ]] || { echo "setup: PostgreSQL binaries not found after installing postgresql" >&2; exit 2; }
  command -v psql >/dev/null 2>&1 || apt_install postgresql-client
  export PG_BIN
}

# PostgreSQL refuses to run as root: as root, run its tools as the postgres user.
pg_as_owner() {
  if as_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_location DATA_DIR: the directory PostgreSQL's files (cluster and server log) live in for DATA_DIR. That is
# DATA_DIR/pg, unless the server has to run as the postgres user (we are root) and that user cannot enter DATA_DIR, as
# in a checkout under root's home (mode 0700). Then it is /var/lib/outpost/pg-<name>-<hash of DATA_DIR>, owned by
# postgres, so the same data directory always finds the same database; DATA_DIR/pg-location says where.
pg_location() {
  local data_dir=$1
  if ! as_root; then echo "$data_dir/pg"; return 0; fi
  id postgres >/dev/null 2>&1 || apt_install postgresql >&2
  if runuser -u postgres -- test -x "$data_dir" 2>/dev/null; then echo "$data_dir/pg"; return 0; fi
  local hash root
  hash=$(printf '%s' "$data_dir" | sha256sum | cut -c1-12)
  root="${OUTPOST_PG_ROOT:-/var/lib/outpost}"
  mkdir -p "$root" && chmod 755 "$root"
  local dir="$root/pg-$(basename "$data_dir" | tr -c 'A-Za-z0-9._\n-' '_')-$hash"
  mkdir -p "$dir" && chown postgres:postgres "$dir" && chmod 700 "$dir"
  echo "$dir" > "$data_dir/pg-location"
  echo "$dir/pg"
}

# pg_init DIR PASSWORD_FILE: creates the cluster once, with a random password for the postgres role.
pg_init() {
  local dir=$1 password_file=$2
  [[ -f "$dir/PG_VERSION" ]] && return 0
  mkdir -p "$dir"
  if [[ ! -s "$password_file" ]]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$password_file")
  fi
  local pwfile
  pwfile=$(mktemp)
  cp "$password_file" "$pwfile"
  if as_root; then
    id postgres >/dev/null 2>&1 || apt_install postgresql
    chown postgres:postgres "$dir" "$pwfile"
    # The postgres user must be able to reach the directory through its parents.
    runuser -u postgres -- test -x "$dir" || { rm -f "$pwfile"; echo "setup: user postgres cannot reach $dir (pg_location picks a directory it can)" >&2; exit 2; }
  fi
  chmod 700 "$dir"
  echo "setup: initialising PostgreSQL in $dir..."
  pg_as_owner "$PG_BIN/initdb" -D "$dir" -U postgres --auth=scram-sha-256 --pwfile="$pwfile" -E UTF8 --no-locale >/dev/null
  rm -f "$pwfile"
}

# pg_start DIR PORT LOG: starts the server on 127.0.0.1 only, with no Unix socket.
pg_start() {
  local dir=$1 port=$2 log=$3
  touch "$log"
  as_root && chown postgres:postgres "$log"
  if pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    echo "setup: PostgreSQL in $dir is already running; stopping it first"
    pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" -m fast stop >/dev/null
  fi
  pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" -l "$log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=''" start >/dev/null \
    || { tail -n 20 "$log" >&2; echo "setup: PostgreSQL did not start (log: $log)" >&2; exit 2; }
}

pg_stop() {
  local dir=$1
  [[ -n "${PG_BIN-}" && -f "$dir/postmaster.pid" ]] || return 0
  pg_as_owner "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# pg_create_database PORT PASSWORD_FILE NAME: creates the database when it does not exist.
pg_create_database() {
  local port=$1 password_file=$2 name=$3
  local exists
  exists=$(PGPASSWORD=$(cat "$password_file") psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$name'")
  if [[ "$exists" != 1 ]]; then
    PGPASSWORD=$(cat "$password_file") psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qc "CREATE DATABASE \"$name\"" >/dev/null
  fi
}

# pg_login_role PORT PASSWORD_FILE DATABASE ROLE GROUP ROLE_PASSWORD_FILE: makes ROLE a login role that owns nothing and
# is a member of GROUP (outpost_app for the control silo and the gateway, outpost_edge_app for edge silos: the group roles
# migrations 0007 and 0009 grant to), with the password in ROLE_PASSWORD_FILE, creating that file when missing. The
# password travels through the environment, never a command line.
pg_login_role() {
  local port=$1 password_file=$2 database=$3 role=$4 group=$5 role_password_file=$6
  [[ "$role" =~ ^[a-z_][a-z0-9_]*$ && "$group" =~ ^[a-z_][a-z0-9_]*$ ]] || { echo "pg_login_role: bad role name '$role' or '$group'" >&2; return 1; }
  if [[ ! -s "$role_password_file" ]]; then
    (umask 077; head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40 > "$role_password_file")
  fi
  PGPASSWORD=$(cat "$password_file") OUTPOST_ROLE_PASSWORD=$(cat "$role_password_file") \
    psql -h 127.0.0.1 -p "$port" -U postgres -d "$database" -v ON_ERROR_STOP=1 -qX -v role="$role" -v group="$group" >/dev/null <<'SQL'
\getenv role_password OUTPOST_ROLE_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'role', :'role_password') \gexec
SELECT format('GRANT %I TO %I', :'group', :'role') \gexec
SQL
}

