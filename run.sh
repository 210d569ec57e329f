#!/usr/bin/env bash
# Starts the whole Outpost system on this machine and keeps it in the foreground until Ctrl-C:
# a private PostgreSQL under the data directory, the control silo, edge silos and the gateway.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
data_dir="$here/.data"
gateway_port=8080
dashboard_port=8081
pg_port=55432
silo_port=11111
edges=1
configuration=Release
hailo_url=""

usage() {
  cat <<EOF
Usage: ./run.sh [options]

Starts PostgreSQL (private, under the data directory), the control silo, edge silos and the gateway,
and stops all of them on Ctrl-C. Running it again with the same data directory keeps all state.

Options:
  --gateway-port N     gateway HTTP port on 127.0.0.1 (default $gateway_port)
  --dashboard-port N   control silo dashboard and health port on 127.0.0.1 (default $dashboard_port)
  --pg-port N          PostgreSQL port on 127.0.0.1 (default $pg_port)
  --silo-port N        first Orleans silo-to-silo port; edge silos take the next ones (default $silo_port)
  --edges N            number of edge silos, device ids dev-pi-1..dev-pi-N (default $edges)
  --data-dir DIR       where PostgreSQL's data, the password and the logs live (default ./.data); when run as root
                       from a directory the postgres user cannot enter, PostgreSQL's files go to /var/lib/outpost
  --hailo-url URL      the AI HAT+ 2's LLM server (hailo-ollama) for the edge silos, e.g. http://pi.local:8000
  --debug              build and run the Debug configuration
  -h, --help           show this help
EOF
}

die() { echo "run.sh: $*" >&2; exit 2; }

port_arg() {
  [[ "$2" =~ ^[0-9]+$ ]] && (( $2 >= 1 && $2 <= 65535 )) || die "$1 needs a port number from 1 to 65535, got '$2'"
  echo "$2"
}

while (( $# )); do
  case "$1" in
    --gateway-port) gateway_port=$(port_arg "$1" "${2-}"); shift 2 ;;
    --dashboard-port) dashboard_port=$(port_arg "$1" "${2-}"); shift 2 ;;
    --pg-port) pg_port=$(port_arg "$1" "${2-}"); shift 2 ;;
    --silo-port) silo_port=$(port_arg "$1" "${2-}"); shift 2 ;;
    --edges)
      [[ "${2-}" =~ ^[0-9]+$ ]] && (( $2 >= 0 && $2 <= 16 )) || die "--edges needs a number from 0 to 16, got '${2-}'"
      edges=$2; shift 2 ;;
    --data-dir) [[ -n "${2-}" ]] || die "--data-dir needs a directory"; data_dir=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
    --hailo-url) [[ "${2-}" =~ ^https?:// ]] || die "--hailo-url needs an http(s) URL, got '${2-}'"; hailo_url=$2; shift 2 ;;
    --debug) configuration=Debug; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done

# shellcheck source=scripts/lib.sh
source "$here/scripts/lib.sh"

ensure_dotnet
ensure_postgres_binaries
# Without bubblewrap (and root to install it) the edge silos still serve inference but take no tasks.
if as_root; then ensure_bubblewrap; elif ! command -v bwrap >/dev/null 2>&1; then
  echo "run.sh: bubblewrap is missing: edge devices will not take task runs (apt-get install -y bubblewrap as root)" >&2
fi

mkdir -p "$data_dir/logs"
pids=()
# Under a directory the postgres user cannot enter (root's home), PostgreSQL's files go to /var/lib/outpost instead.
pg_dir=$(pg_location "$data_dir")
[[ "$pg_dir" == "$data_dir/pg" ]] || echo "run.sh: user postgres cannot enter $data_dir, so PostgreSQL's files are in $(dirname "$pg_dir")"
pg_log="$(dirname "$pg_dir")/logs/postgresql.log"
[[ "$pg_dir" == "$data_dir/pg" ]] || { mkdir -p "$(dirname "$pg_log")"; as_root && chown postgres:postgres "$(dirname "$pg_log")"; }

cleanup() {
  trap - INT TERM EXIT
  echo
  echo "run.sh: stopping..."
  # Gateway first, edges next, control silo last, so that each leaves the cluster cleanly.
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
  pg_stop "$pg_dir"
  echo "run.sh: stopped. State is kept in $data_dir."
  exit 0
}
trap cleanup INT TERM EXIT

echo "run.sh: building ($configuration)..."
: >"$data_dir/logs/build.log"
for project in Silo EdgeSilo Gateway Admin; do
  dotnet build "$here/src/$project" -c "$configuration" -nologo -clp:ErrorsOnly -v:quiet >>"$data_dir/logs/build.log" 2>&1 \
    || { cat "$data_dir/logs/build.log" >&2; die "build failed (log: $data_dir/logs/build.log)"; }
done
bin() { echo "$here/src/$1/bin/$configuration/net10.0/Outpost.$1.dll"; }

password_file="$data_dir/pg-password"
pg_init "$pg_dir" "$password_file"
pg_start "$pg_dir" "$pg_port" "$pg_log"
pg_create_database "$pg_port" "$password_file" outpost
export ConnectionStrings__Outpost="Host=127.0.0.1;Port=$pg_port;Database=outpost;Username=postgres;Password=$(cat "$password_file")"
export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production

# Development security: a master key for the signing keys, the gateway's address as issuer, day-long tokens.
export Security__Issuer="http://127.0.0.1:$gateway_port"
export Security__MasterKeyFile="$data_dir/master.key"
export Security__CreateMasterKeyFile=true
export Security__AccessTokenLifetime=12:00:00
# Development and benchmarks want to see where each request's time went (Server-Timing); production keeps it off.
export Diagnostics__ServerTiming="${Diagnostics__ServerTiming:-true}"

# The dev tenant and its clients are created once and kept in the data directory; tokens are issued on every start.
outpost() { dotnet "$here/src/Admin/bin/$configuration/net10.0/outpost.dll" "$@"; }
dev_client() {
  local tenant=$1 name=$2 scopes=$3 file="$data_dir/$2.client"
  if [[ ! -s "$file" ]]; then
    outpost client create "$tenant" "$name" --scopes "$scopes" --public | awk '/^client_id:/ {print $2}' > "$file"
    [[ -s "$file" ]] || die "could not create the $name client"
  fi
  outpost token issue "$tenant" "$(cat "$file")" --scopes "$scopes" --lifetime 12:00:00 --out "$data_dir/$name.token" >/dev/null \
    || die "could not issue the $name token"
}
if ! outpost tenant list | grep -q '^dev '; then
  outpost tenant create dev --name Development >/dev/null || die "could not create the dev tenant"
fi
dev_client system dev-admin "admin audit:read spend:read tasks:read"
dev_client dev cowork "embed:create infer:create code:execute tasks:read"
dev_client dev reviewer "tasks:read approvals:decide"

# The task policy the gateway enforces: installed once from config/, then the operator's copy (reloaded on change).
[[ -s "$data_dir/task-policy.yaml" ]] || cp "$here/config/task-policy.yaml" "$data_dir/task-policy.yaml"

# Set-up above ran as the database's owner; the services run as outpost_service, which owns nothing and holds only
# what migration 0007 grants outpost_app (no UPDATE, DELETE or TRUNCATE on the audit log or the spend ledger), and the
# edge silos as outpost_edge, which holds only what migration 0009 grants outpost_edge_app (membership, reminders, the
# device grain's own state: nothing of identity, audit, the ledger or tasks).
pg_login_role "$pg_port" "$password_file" outpost outpost_service outpost_app "$data_dir/pg-service-password" \
  || die "could not set up the services' database role"
pg_login_role "$pg_port" "$password_file" outpost outpost_edge outpost_edge_app "$data_dir/pg-edge-password" \
  || die "could not set up the edge silos' database role"
export ConnectionStrings__Outpost="Host=127.0.0.1;Port=$pg_port;Database=outpost;Username=outpost_service;Password=$(cat "$data_dir/pg-service-password")"
edge_connection="Host=127.0.0.1;Port=$pg_port;Database=outpost;Username=outpost_edge;Password=$(cat "$data_dir/pg-edge-password")"

# Cluster TLS: a development CA in the data directory, and a certificate per node naming its role (and device).
tls_dir="$data_dir/tls"
if [[ ! -s "$tls_dir/ca.crt" ]]; then
  outpost cluster ca create --dir "$tls_dir" --name "outpost dev $(hostname)" >/dev/null || die "could not create the cluster CA"
fi
node_cert() {
  local name=$1; shift
  [[ -s "$tls_dir/$name.crt" && -s "$tls_dir/$name.key" ]] && return 0
  outpost cluster cert issue "$@" --dir "$tls_dir" --force >/dev/null || die "could not issue the $name certificate"
}
# export_tls NAME: the next process started presents $tls_dir/NAME.crt.
export_tls() {
  export Cluster__Tls__CaFile="$tls_dir/ca.crt" Cluster__Tls__CertificateFile="$tls_dir/$1.crt" Cluster__Tls__KeyFile="$tls_dir/$1.key"
}
node_cert control control
node_cert gateway gateway
for (( n=1; n<=edges; n++ )); do node_cert "edge-dev-pi-$n" edge --device "dev-pi-$n"; done

start() {
  local name=$1; shift
  # Prefix every line so the interleaved output says who wrote it; keep a copy per process.
  dotnet "$@" > >(sed -u "s/^/[$name] /" | tee -a "$data_dir/logs/$name.log") 2>&1 &
  pids+=($!)
}

wait_ready() {
  local name=$1 url=$2 pid=$3
  for _ in $(seq 1 240); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || die "$name exited during start-up (log: $data_dir/logs/$name.log)"
    sleep 0.5
  done
  die "$name did not become ready at $url within 2 minutes"
}

export_tls control
start silo "$(bin Silo)" --Http:Port="$dashboard_port" --Cluster:SiloPort="$silo_port" --Cluster:GatewayPort=30000
wait_ready silo "http://127.0.0.1:$dashboard_port/readyz" "${pids[-1]}"

for (( n=1; n<=edges; n++ )); do
  export_tls "edge-dev-pi-$n"
  ConnectionStrings__Outpost="$edge_connection" start "edge-$n" "$(bin EdgeSilo)" --Edge:DeviceId="dev-pi-$n" --Cluster:SiloPort=$((silo_port + n)) \
    --Edge:Tasks:KeyFile="$data_dir/edge-dev-pi-$n/device-key.pem" \
    ${hailo_url:+--Inference:Hailo:BaseUrl="$hailo_url"}
done

# Ready means ready: the gateway's /readyz waits until its router sees every edge device started here.
export_tls gateway
start gateway "$(bin Gateway)" --Http:Port="$gateway_port" --Routing:ReadyMinDevices="$edges" --Tasks:PolicyFile="$data_dir/task-policy.yaml"
wait_ready gateway "http://127.0.0.1:$gateway_port/readyz" "${pids[-1]}"

# Then the README's first request, for real: if it fails here, it would have failed for the user.
if (( edges > 0 )); then
  first=$(curl -sS -o "$data_dir/logs/first-request.json" -w '%{http_code}' "http://127.0.0.1:$gateway_port/v1/embeddings" \
    -H "Authorization: Bearer $(cat "$data_dir/cowork.token")" -H 'content-type: application/json' \
    -d '{"model":"all-MiniLM-L6-v2","input":"hello"}' 2>/dev/null || true)
  [[ "$first" == 200 ]] || die "the gateway is ready but the first embeddings request answered ${first:-nothing}: $(head -c 400 "$data_dir/logs/first-request.json" 2>/dev/null) (logs: $data_dir/logs/)"
fi

cat <<EOF

Outpost is running.
  Gateway:    http://127.0.0.1:$gateway_port
  Dashboard:  http://127.0.0.1:$dashboard_port/dashboard
  Approvals:  http://127.0.0.1:$gateway_port/approvals (tenant admins; task policy in $data_dir/task-policy.yaml)
  PostgreSQL: 127.0.0.1:$pg_port, database outpost (password in $password_file, files in $(dirname "$pg_dir"))
  Logs:       $data_dir/logs/

  Tokens:     $data_dir/cowork.token (tenant dev: embed:create infer:create code:execute tasks:read)
              $data_dir/reviewer.token (tenant dev: tasks:read approvals:decide)
              $data_dir/dev-admin.token (tenant system: admin audit:read spend:read tasks:read)

Try:  curl -s http://127.0.0.1:$gateway_port/v1/embeddings -H "Authorization: Bearer \$(cat $data_dir/cowork.token)" -H 'content-type: application/json' -d '{"model":"all-MiniLM-L6-v2","input":"hello"}'

Press Ctrl-C to stop everything.
EOF

# Stay in the foreground; if any process dies, stop the rest rather than limp on.
wait -n "${pids[@]}" || true
echo "run.sh: a process exited; see $data_dir/logs/" >&2
