#!/usr/bin/env bash
# Container entrypoint of flcollector.
#
# The agent itself reads the spec's variables (FL_SERVER_URL, POLICY_ENGINE_URL, SDN_CONTROLLER_URL, the *_HOST/_PORT
# pairs, COLLECTOR_PORT, LOG_LEVEL, ...) with the precedence CLI > env > file > defaults. This script adds only what
# the agent cannot know about a FLOPY-NET deployment:
#
#   * In a GNS3 topology (USE_STATIC_IP=true, NETWORK_MODE=gns3 or GNS3_NETWORK=true) the sources have static
#     addresses and their service names do not resolve, so <SOURCE>_URL is derived from NODE_IP_<SOURCE> (beating
#     <SOURCE>_HOST) and the source's port (<SOURCE>_PORT, else FL 8081, policy 5000, SDN 8181).
#   * Elsewhere <SOURCE>_HOST (else NODE_IP_<SOURCE>) with that port gives the URL, so a missing port never becomes
#     "http://host" on port 80.
#   * A source that the config enables but that nobody told us how to reach is an error naming the variables to set
#     (exit 2), never a silent default such as localhost.
#
# Usage:
#   entrypoint.sh [run [FLAGS...]]   resolve, validate with `flcollector check`, then exec `flcollector run -c CONFIG`
#                                    (exec: SIGTERM from `docker stop` reaches the agent, which flushes every sink)
#   entrypoint.sh --print-env        resolve and print the variables the agent will see, then exit
#   entrypoint.sh COMMAND [ARGS...]  resolve, then exec any other command (e.g. `flcollector once`, `bash`)
# With FLCOLLECTOR_DRY_RUN=1, `run` validates and prints the resolved config as JSON instead of starting the agent.
#
# FLCOLLECTOR_CONFIG names the config file (default /app/config/container.toml).
set -euo pipefail

CONFIG="${FLCOLLECTOR_CONFIG:-/app/config/container.toml}"
export FLCOLLECTOR_CONFIG="$CONFIG" # `flcollector once` and friends then default to the same file
FLCOLLECTOR="${FLCOLLECTOR_BIN:-flcollector}"
PYTHON="${FLCOLLECTOR_PYTHON:-python3}"

# source key in the config | env prefix | default port | switch that disables the monitor (FLOPY-NET's names)
SOURCES=(
	"fl|FL_SERVER|8081|FL_MONITOR_ENABLED"
	"policy|POLICY_ENGINE|5000|POLICY_MONITOR_ENABLED"
	"sdn|SDN_CONTROLLER|8181|NETWORK_MONITOR_ENABLED"
)

die() {
	echo "flcollector-entrypoint: $*" >&2
	exit 2
}

is_true() {
	case "${1,,}" in
	1 | true | yes | on) return 0 ;;
	*) return 1 ;;
	esac
}

static_mode() {
	is_true "${USE_STATIC_IP:-}" || [[ "${NETWORK_MODE:-}" == "gns3" ]] || is_true "${GNS3_NETWORK:-}"
}

# Derive <PREFIX>_URL when it is not given; validate what is given.
resolve_source() {
	local prefix=$1 default_port=$2
	local url_var="${prefix}_URL" host_var="${prefix}_HOST" port_var="${prefix}_PORT" ip_var="NODE_IP_${prefix}"
	local url="${!url_var:-}" host="${!host_var:-}" port="${!port_var:-$default_port}" ip="${!ip_var:-}"
	if [[ -n "$url" ]]; then
		[[ "$url" =~ ^https?://[^/]+ ]] || die "$url_var must be an http:// or https:// URL, got '$url'"
		return 0
	fi
	if ! [[ "$port" =~ ^[0-9]{1,5}$ ]] || ((10#$port < 1 || 10#$port > 65535)); then
		die "$port_var must be a port number (1-65535), got '$port'"
	fi
	local address=""
	if [[ -n "$ip" ]] && { static_mode || [[ -z "$host" ]]; }; then
		address="$ip"
	elif [[ -n "$host" ]]; then
		address="$host"
	fi
	if [[ -n "$address" ]]; then
		export "$url_var=http://$address:$port"
	fi
}

resolve_environment() {
	if [[ -n "${SERVICE_TYPE:-}" && "${SERVICE_TYPE}" != "collector" ]]; then
		die "this image runs the collector, but SERVICE_TYPE is '${SERVICE_TYPE}' (set SERVICE_TYPE=collector or unset it)"
	fi
	# FLOPY-NET's names for the API port and bind address
	if [[ -z "${COLLECTOR_PORT:-}" && -n "${METRICS_API_PORT:-${API_PORT:-}}" ]]; then
		export COLLECTOR_PORT="${METRICS_API_PORT:-${API_PORT:-}}"
	fi
	if [[ -z "${COLLECTOR_HOST:-}" && -n "${API_HOST:-}" ]]; then
		export COLLECTOR_HOST="$API_HOST"
	fi
	if [[ -n "${COLLECTOR_PORT:-}" ]]; then
		[[ "$COLLECTOR_PORT" =~ ^[0-9]+$ ]] || die "COLLECTOR_PORT must be a port number, got '$COLLECTOR_PORT'"
	fi
	local entry prefix port
	for entry in "${SOURCES[@]}"; do
		IFS='|' read -r _ prefix port _ <<<"$entry"
		resolve_source "$prefix" "$port"
	done
}

# Exit 2 naming the variables to set for every source the config enables without an address, and for a data_dir
# this user cannot write.
check_runnable() {
	local missing
	missing="$("$PYTHON" - "$CONFIG" "${SOURCES[@]}" <<'PY'
import os, sys, tomllib

path, sources = sys.argv[1], sys.argv[2:]
try:
    with open(path, "rb") as handle:
        config = tomllib.load(handle)
except (OSError, tomllib.TOMLDecodeError):
    sys.exit(0)  # `flcollector check` reports an unreadable or broken file with line and column
monitors = config.get("monitors", {})
off = ("0", "false", "no", "off")
for source in sources:
    key, prefix, port, switch = source.split("|")
    tables = monitors.get(key) if isinstance(monitors, dict) else None
    tables = [tables] if isinstance(tables, dict) else (tables or [])
    if os.environ.get(switch, "").strip().lower() in off:
        continue
    for table in tables:
        if not isinstance(table, dict) or table.get("enabled") is False or table.get("url"):
            continue
        if not os.environ.get(f"{prefix}_URL"):
            print(f"  [[monitors.{key}]] has no address: set {prefix}_URL, or NODE_IP_{prefix} with USE_STATIC_IP=true,"
                  f" or {prefix}_HOST (port: {prefix}_PORT, default {port}); or set {switch}=false")
            break
data_dir = os.environ.get("DATA_DIR") or (config.get("agent") or {}).get("data_dir") or "./data"
if os.path.isdir(data_dir) and not os.access(data_dir, os.W_OK | os.X_OK):
    print(f"  data_dir {data_dir} is not writable by uid {os.getuid()}: mount a volume this user can write"
          f" (the image's user is flcollector, uid 10001), or set DATA_DIR")
PY
)" || die "cannot read $CONFIG with $PYTHON"
	if [[ -n "$missing" ]]; then
		die "$CONFIG cannot run here:"$'\n'"$missing"
	fi
}

print_env() {
	local name
	echo "FLCOLLECTOR_CONFIG=$CONFIG"
	for name in SERVICE_TYPE NETWORK_MODE USE_STATIC_IP GNS3_NETWORK COLLECTOR_HOST COLLECTOR_PORT \
		FL_SERVER_URL POLICY_ENGINE_URL SDN_CONTROLLER_URL SDN_CONTROLLER_TYPE COLLECTION_INTERVAL \
		EXPERIMENT_ID DATA_DIR LOG_LEVEL FL_MONITOR_ENABLED POLICY_MONITOR_ENABLED NETWORK_MONITOR_ENABLED; do
		if [[ -n "${!name:-}" ]]; then
			echo "$name=${!name}"
		fi
	done
}

main() {
	resolve_environment
	case "${1:-run}" in
	--print-env)
		check_runnable
		print_env
		;;
	run)
		[[ $# -gt 0 ]] && shift
		check_runnable
		if is_true "${FLCOLLECTOR_DRY_RUN:-}"; then
			exec "$FLCOLLECTOR" check -c "$CONFIG" --print
		fi
		"$FLCOLLECTOR" check -c "$CONFIG" >&2 || exit $?
		exec "$FLCOLLECTOR" run -c "$CONFIG" "$@"
		;;
	*)
		exec "$@"
		;;
	esac
}

main "$@"
