#!/usr/bin/env bash
# Container entrypoint of flcollector.
#
# The agent itself reads the spec's variables (FL_SERVER_URL, POLICY_ENGINE_URL, SDN_CONTROLLER_URL, the *_HOST/_PORT
# pairs with FLOPY-NET's default ports, COLLECTOR_PORT, LOG_LEVEL, ...) with the precedence CLI > env > file >
# defaults. This script adds only what the agent cannot know about a FLOPY-NET deployment:
#
#   * In a GNS3 topology (USE_STATIC_IP=true, NETWORK_MODE=gns3 or GNS3_NETWORK=true) the sources have static
#     addresses and their service names do not resolve, so NODE_IP_<SOURCE> becomes <SOURCE>_HOST (beating a service
#     name there). Elsewhere NODE_IP_<SOURCE> is used only when <SOURCE>_HOST is not set. The agent adds the port
#     (<SOURCE>_PORT, else FLOPY-NET's: its DEFAULT_PORTS table is the only copy).
#   * FLOPY-NET's names for the API address (METRICS_API_PORT, API_PORT, API_HOST) become COLLECTOR_PORT/_HOST.
#   * Before `run`, container/preflight.py asks the agent's own config resolution what cannot work here: a source the
#     config enables but that nobody told us how to reach, or a directory the config writes to (data, archive,
#     exports) that this uid cannot write. Either is an error naming what to set (exit 2), never a silent default.
#
# Usage:
#   entrypoint.sh [run [FLAGS...]]   resolve, preflight, validate with `flcollector check`, then exec
#                                    `flcollector run -c CONFIG` (exec: SIGTERM from `docker stop` reaches the agent,
#                                    which flushes every sink)
#   entrypoint.sh --print-env        resolve, preflight and print the variables the agent will see, then exit
#   entrypoint.sh --health           resolve, then GET /health where the config says the agent listens (HEALTHCHECK)
#   entrypoint.sh COMMAND [ARGS...]  resolve, then exec any other command (e.g. `flcollector once`, `bash`)
# With FLCOLLECTOR_DRY_RUN=1, `run` validates and prints the resolved config as JSON instead of starting the agent.
#
# FLCOLLECTOR_CONFIG names the config file (default /app/config/container.toml).
set -euo pipefail

CONFIG="${FLCOLLECTOR_CONFIG:-/app/config/container.toml}"
export FLCOLLECTOR_CONFIG="$CONFIG" # `flcollector once` and friends then default to the same file
FLCOLLECTOR="${FLCOLLECTOR_BIN:-flcollector}"
PYTHON="${FLCOLLECTOR_PYTHON:-python3}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)" # preflight.py and healthcheck.py lie beside this script

# source key in the config | env prefix | switch that disables the monitor (FLOPY-NET's names)
SOURCES=(
	"fl|FL_SERVER|FL_MONITOR_ENABLED"
	"policy|POLICY_ENGINE|POLICY_MONITOR_ENABLED"
	"sdn|SDN_CONTROLLER|NETWORK_MONITOR_ENABLED"
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

# Validate <PREFIX>_URL and <PREFIX>_PORT when given; give a node IP to the agent as <PREFIX>_HOST.
resolve_source() {
	local prefix=$1
	local url_var="${prefix}_URL" host_var="${prefix}_HOST" port_var="${prefix}_PORT" ip_var="NODE_IP_${prefix}"
	local url="${!url_var:-}" host="${!host_var:-}" port="${!port_var:-}" ip="${!ip_var:-}"
	if [[ -n "$url" ]]; then
		[[ "$url" =~ ^https?://[^/]+ ]] || die "$url_var must be an http:// or https:// URL, got '$url'"
		return 0
	fi
	if [[ -n "$port" ]] && { ! [[ "$port" =~ ^[0-9]{1,5}$ ]] || ((10#$port < 1 || 10#$port > 65535)); }; then
		die "$port_var must be a port number (1-65535), got '$port'"
	fi
	if [[ -n "$ip" ]] && { static_mode || [[ -z "$host" ]]; }; then
		export "$host_var=$ip"
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
	local entry prefix
	for entry in "${SOURCES[@]}"; do
		IFS='|' read -r _ prefix _ <<<"$entry"
		resolve_source "$prefix"
	done
}

# Exit 2 naming what to set for every source the config enables without an address, and for every directory the
# config writes to that this uid cannot write (container/preflight.py asks the agent's own config resolution).
check_runnable() {
	local problems
	problems="$("$PYTHON" "$HERE/preflight.py" "$CONFIG" "${SOURCES[@]}")" || die "cannot run $HERE/preflight.py with $PYTHON"
	if [[ -n "$problems" ]]; then
		die "$CONFIG cannot run here:"$'\n'"$problems"
	fi
}

print_env() {
	local name
	echo "FLCOLLECTOR_CONFIG=$CONFIG"
	for name in SERVICE_TYPE NETWORK_MODE USE_STATIC_IP GNS3_NETWORK COLLECTOR_HOST COLLECTOR_PORT \
		FL_SERVER_URL FL_SERVER_HOST FL_SERVER_PORT POLICY_ENGINE_URL POLICY_ENGINE_HOST POLICY_ENGINE_PORT \
		SDN_CONTROLLER_URL SDN_CONTROLLER_HOST SDN_CONTROLLER_PORT SDN_CONTROLLER_TYPE COLLECTION_INTERVAL \
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
	--health)
		exec "$PYTHON" "$HERE/healthcheck.py" "$CONFIG"
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
