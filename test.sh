#!/usr/bin/env bash
# Runs every test. Installs what the tests need when it is missing (PostgreSQL's server binaries), restores NuGet
# packages, builds, and runs each test project; the tests start their own throwaway PostgreSQL servers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
configuration=Release
filter=()

usage() {
  cat <<EOF
Usage: ./test.sh [--debug] [--filter EXPRESSION]

  --debug              build and test the Debug configuration (default Release)
  --filter EXPRESSION  run only matching tests (dotnet test --filter syntax)
EOF
}

while (( $# )); do
  case "$1" in
    --debug) configuration=Debug; shift ;;
    --filter) [[ -n "${2-}" ]] || { echo "test.sh: --filter needs an expression" >&2; exit 2; }; filter=(--filter "$2"); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; echo "test.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

# shellcheck source=scripts/lib.sh
source "$here/scripts/lib.sh"
ensure_dotnet
ensure_postgres_binaries
ensure_bubblewrap
ensure_chromium
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

cd "$here"
dotnet restore Outpost.slnx
dotnet build Outpost.slnx -c "$configuration" --no-restore -nologo

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Outpost.slnx -c "$configuration" --no-build --nologo "${filter[@]}" \
  --blame-hang-timeout 10m 2>&1 | tee "$log" || status=$?

# One closing line for the whole run, summed over the test projects.
awk '/(Passed|Failed)! +- +Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s; if (p == 0 && f == 0) exit 1 }' "$log" || { (( status != 0 )) || status=1; }
exit "$status"
