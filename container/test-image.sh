#!/usr/bin/env bash
# Build flcollector's image with podman and run it for real. From anywhere in the repository:
#
#   container/test-image.sh          make the base (if missing), build, run every check below, clean up (.ci/run)
#   container/test-image.sh build    make the base if missing, build the image, print the build time and size
#
# Needs root (debootstrap, rootful podman) with podman, runc and debootstrap installed; .ci/run sets them up
# (container/podman-host-setup.sh). No container registry is needed: container/base-image.sh makes the base, a
# Debian bookworm minbase, under the name container/Dockerfile pins. Python packages come from PyPI (the host's CA
# bundle is passed to the build as the secret `pip_ca`, never stored in the image).
#
# The checks: the image's labels, user, HEALTHCHECK and writable HOME; the entrypoint's errors (no source address,
# an unwritable /app/logs volume: exit 2 naming the uid); the compose topology (container/compose.yaml translated by
# container/compose_podman.py: the emulators and the collector on their network, each started once its dependencies
# are healthy); the collector's HEALTHCHECK reaching healthy; the API answering on 127.0.0.1 only, with rounds
# collected from the emulators; `podman stop` (SIGTERM) leaving every accepted record in the store, and records that
# only the shutdown flush can write in the archive.
#
# Everything a run creates (containers, network, volumes, temporary files) is labelled or kept under one temporary
# directory and removed on exit, failed or not. The base and the built image stay: they are the build cache.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENGINE="${CONTAINER_ENGINE:-podman}"
PYTHON="${FLCOLLECTOR_TEST_PYTHON:-$REPO/.venv/bin/python}" # needs PyYAML (the dev extra)
CA_BUNDLE="${FLCOLLECTOR_BUILD_CA:-${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}}"
VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$REPO/pyproject.toml")"
IMAGE="flcollector:$VERSION"
RUN_ID="flctest-$$"
WORK=""
STARTED=$SECONDS

log() { echo "test-image: $*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}

cleanup() {
	local status=$?
	if [[ "$ENGINE" == podman ]] && command -v podman >/dev/null; then
		podman ps -aq --filter "label=flcollector.test=$RUN_ID" | xargs -r podman rm -f -v -t 0 >/dev/null 2>&1 || true
		podman network ls -q --filter "label=flcollector.test=$RUN_ID" | xargs -r podman network rm -f >/dev/null 2>&1 || true
		podman volume ls -q --filter "label=flcollector.test=$RUN_ID" | xargs -r podman volume rm -f >/dev/null 2>&1 || true
	fi
	[[ -n "$WORK" ]] && rm -rf "$WORK"
	if ((status == 0)); then
		log "done in $((SECONDS - STARTED)) s"
	else
		log "failed after $((SECONDS - STARTED)) s (exit $status); everything this run made is removed"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

WORK="$(mktemp -d /tmp/flcollector-test-image.XXXXXX)"
chmod 0755 "$WORK" # volumes bound from here are read by the image's user

image_mib() { echo $(($($ENGINE image inspect --format '{{.Size}}' "$1") / 1048576)); }

# ---- the image -------------------------------------------------------------------------------------------------

build_image() {
	"$REPO/container/base-image.sh" make
	local revision source old started=$SECONDS
	revision="$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)"
	if [[ "$revision" != unknown ]] && ! git -C "$REPO" diff --quiet HEAD -- 2>/dev/null; then
		revision="$revision-dirty"
	fi
	source="$(git -C "$REPO" remote get-url origin 2>/dev/null || echo unknown)"
	old="$($ENGINE image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
	local secret=()
	[[ -s "$CA_BUNDLE" ]] && secret=(--secret "id=pip_ca,src=$CA_BUNDLE")
	log "build: $IMAGE from container/Dockerfile"
	$ENGINE build --format docker -f "$REPO/container/Dockerfile" --ignorefile "$REPO/container/Dockerfile.dockerignore" \
		"${secret[@]}" --build-arg "VERSION=$VERSION" --build-arg "REVISION=$revision" \
		--build-arg "SOURCE=$source" -t "$IMAGE" "$REPO" >"$WORK/build.log" 2>&1 || {
		tail -40 "$WORK/build.log" >&2
		die "podman build failed"
	}
	BUILD_SECONDS=$((SECONDS - started))
	local new
	new="$($ENGINE image inspect --format '{{.Id}}' "$IMAGE")"
	if [[ -n "$old" && "$old" != "$new" ]]; then
		$ENGINE rmi "$old" >/dev/null 2>&1 || true # the previous build, now untagged (kept if something uses it)
	fi
	log "build: $IMAGE in $BUILD_SECONDS s, $(image_mib "$IMAGE") MiB (id ${new:0:12}, revision $revision)"
}

# ---- checks ----------------------------------------------------------------------------------------------------

inspect() { $ENGINE image inspect --format "$1" "$IMAGE"; }

check_image() {
	[[ "$(inspect '{{index .Config.Labels "org.opencontainers.image.version"}}')" == "$VERSION" ]] || die "version label"
	[[ -n "$(inspect '{{index .Config.Labels "org.opencontainers.image.revision"}}')" ]] || die "no revision label"
	[[ -n "$(inspect '{{index .Config.Labels "org.opencontainers.image.source"}}')" ]] || die "no source label"
	[[ "$(inspect '{{.Config.User}}')" == flcollector ]] || die "the image does not run as flcollector"
	[[ "$(inspect '{{json .Config.Healthcheck.Test}}')" == '["CMD","/app/entrypoint.sh","--health"]' ]] ||
		die "the image has no HEALTHCHECK (built without --format docker?)"
	local home
	# shellcheck disable=SC2016 # $HOME is the container's, expanded inside it
	home="$($ENGINE run --rm --label "flcollector.test=$RUN_ID" "$IMAGE" sh -c 'touch "$HOME/.probe" && echo "$HOME"')" ||
		die "HOME is not writable"
	$ENGINE run --rm --label "flcollector.test=$RUN_ID" "$IMAGE" python -c 'import pyarrow.parquet' ||
		die "pyarrow (the parquet extra) is not in the image"
	$ENGINE run --rm --label "flcollector.test=$RUN_ID" "$IMAGE" python -c 'import matplotlib' ||
		die "matplotlib (the report extra) is not in the image"
	log "image: labels, user flcollector, HEALTHCHECK, writable HOME ($home), pyarrow, matplotlib: ok"
}

# Run the image once with "$@" as podman arguments; it must exit 2 and say every word in WANT (an array).
expect_refusal() {
	local what=$1 output status=0
	shift
	output="$($ENGINE run --rm --label "flcollector.test=$RUN_ID" "$@" "$IMAGE" 2>&1)" || status=$?
	((status == 2)) || die "$what: exit $status, expected 2:"$'\n'"$output"
	for word in "${WANT[@]}"; do
		[[ "$output" == *"$word"* ]] || die "$what: the message does not say '$word':"$'\n'"$output"
	done
	log "entrypoint refuses $what (exit 2): ok"
}

check_entrypoint_errors() {
	WANT=("[[monitors.fl]] has no address" "FL_SERVER_URL" "NODE_IP_SDN_CONTROLLER" "default 8181")
	expect_refusal "a start without source addresses"
	mkdir -m 0755 "$WORK/root-owned-logs"
	WANT=("/app/logs ([sinks.jsonl] directory) is not writable for uid 10001" "chown 10001")
	expect_refusal "an /app/logs it cannot write" -v "$WORK/root-owned-logs:/app/logs" \
		-e FL_SERVER_URL=http://fl:8081 -e POLICY_ENGINE_URL=http://pe:5000 -e SDN_CONTROLLER_URL=http://sdn:8181
}

# Run `podman healthcheck run` until the container is healthy: without systemd, podman has no timer to run the
# image's HEALTHCHECK on its own, so the test runs the same command at the configured pace.
wait_healthy() {
	local container=$1 limit=$2 deadline=$((SECONDS + $2))
	while ((SECONDS < deadline)); do
		if [[ "$($ENGINE inspect --format '{{.State.Status}}' "$container")" != running ]]; then
			$ENGINE logs "$container" >&2 || true
			die "$container stopped before it was healthy"
		fi
		if $ENGINE healthcheck run "$container" >/dev/null 2>&1; then
			[[ "$($ENGINE inspect --format '{{.State.Health.Status}}' "$container")" == healthy ]] && return 0
		fi
		sleep 1
	done
	$ENGINE logs "$container" >&2 || true
	die "$container was not healthy within $limit s"
}

free_port() { "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The compose services, run as compose_podman.py translates them; sets COLLECTOR (the container) and API (its URL).
run_topology() {
	local verb first second rest args
	FLCOLLECTOR_API_PORT="$(free_port)"
	export FLCOLLECTOR_API_PORT # the compose file's published port; its bind address stays the default 127.0.0.1
	"$PYTHON" "$REPO/container/compose_podman.py" "$REPO/container/compose.yaml" "$RUN_ID" >"$WORK/plan" ||
		die "cannot translate container/compose.yaml"
	while read -r verb rest <&3; do # fd 3: podman reads stdin, and must not eat the plan
		eval "args=($rest)"             # compose_podman.py quotes every argument with shlex
		case "$verb" in
		network) # keep podman's chatter (netavark's "failed to connect to syslog") out unless a step fails
			$ENGINE network create "${args[@]:1}" "${args[0]}" >"$WORK/network.log" 2>&1 || {
				cat "$WORK/network.log" >&2
				die "cannot create the network ${args[0]}"
			}
			;;
		volume) $ENGINE volume create --label "flcollector.test=$RUN_ID" "${args[0]}" >/dev/null ;;
		wait) wait_healthy "${args[0]}" 60 && log "compose: ${args[0]} healthy" ;;
		run)
			first="${args[0]}" second="${args[1]}"
			$ENGINE run --detach "${args[@]:2}" >"$WORK/run.log" 2>&1 || {
				cat "$WORK/run.log" >&2
				die "cannot start service $first"
			}
			[[ "$first" == collector ]] && COLLECTOR="$second"
			log "compose: started $first as $second"
			;;
		*) die "unknown step in the plan: $verb" ;;
		esac
	done 3<"$WORK/plan"
	[[ -n "${COLLECTOR:-}" ]] || die "the compose file has no collector service"
	API="http://127.0.0.1:$FLCOLLECTOR_API_PORT"
}

# GET a path of the API; print the body.
api() { curl --silent --show-error --fail-with-body --max-time 30 "$API$1"; }

# Print a JSON value from stdin: json_get 'expression on d' (Python).
json_get() { "$PYTHON" -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

check_topology() {
	run_topology
	wait_healthy "$COLLECTOR" 90
	log "compose: $COLLECTOR healthy (its HEALTHCHECK, on the port its config resolves)"
	local published
	published="$($ENGINE port "$COLLECTOR" 8000/tcp)"
	[[ "$published" == "127.0.0.1:$FLCOLLECTOR_API_PORT" ]] || die "the API is published on $published, not 127.0.0.1"
	local deadline=$((SECONDS + 90)) rounds=0
	while ((SECONDS < deadline)); do
		rounds="$(api "/api/v1/metrics?name=fl_round" | json_get 'len(d)')" || rounds=0
		((rounds > 0)) && break
		sleep 2
	done
	((rounds > 0)) || die "no fl_round record from the emulated FL server within 90 s"
	local status
	status="$(api /health | json_get 'd["status"]')"
	[[ "$status" == healthy ]] || die "/health says $status"
	log "compose: API on $published only, /health $status, $rounds fl_round records from the emulators"

	# the export API writes into the image's exports volume, and the report (the report extra) is drawn from the
	# store: wait until the store has written what the API already showed (the cache answers before it flushes)
	local written=0
	deadline=$((SECONDS + 30))
	while ((SECONDS < deadline)); do
		written="$(api /health | json_get 'd["agent_components"]["sink:sqlite"]["counters"].get("records_out", 0)')" || written=0
		((written > 0)) && break
		sleep 1
	done
	((written > 0)) || die "the store wrote nothing within 30 s of the first fl_round record"
	local export_id
	export_id="$(curl --silent --show-error --fail --max-time 60 -X POST -d '{"format": "json"}' "$API/api/v1/export" |
		json_get 'd["export_id"] if d["status"] == "completed" else ""')" || die "POST /api/v1/export failed"
	[[ -n "$export_id" ]] || die "the export did not complete"
	$ENGINE exec "$COLLECTOR" test -s "/app/exports/$export_id.json" || die "export $export_id is not in /app/exports"
	api /api/v1/report >"$WORK/report.html" || die "/api/v1/report failed: $(head -c 400 "$WORK/report.html")"
	grep -q "<!doctype html>" "$WORK/report.html" || die "/api/v1/report gave no HTML report"
	log "compose: an export in /app/exports ($export_id), /api/v1/report drawn: ok"

	# SIGTERM: everything the store accepted before the stop is in it after the stop
	local accepted stored
	accepted="$(api /health | json_get 'd["agent_components"]["sink:sqlite"]["counters"]["records_in"]')"
	$ENGINE stop --time 20 "$COLLECTOR" >/dev/null
	[[ "$($ENGINE inspect --format '{{.State.ExitCode}}' "$COLLECTOR")" == 0 ]] || die "the agent exited non-zero on SIGTERM"
	$ENGINE logs "$COLLECTOR" >"$WORK/collector.log" 2>&1
	grep -q "received SIGTERM" "$WORK/collector.log" || die "the agent did not log the SIGTERM"
	stored="$($ENGINE run --rm --label "flcollector.test=$RUN_ID" --volumes-from "$COLLECTOR" --entrypoint python "$IMAGE" \
		-c 'import sqlite3; db = sqlite3.connect("/app/data/flcollector.db")
print(sum(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("metrics", "events")))')"
	((stored >= accepted)) || die "$stored records stored after SIGTERM, but $accepted were accepted before it"
	log "compose: podman stop -> exit 0, $stored records in the store (>= $accepted accepted before the stop)"
}

# A collector whose JSONL archive writes nothing before shutdown: only the SIGTERM flush can put records in it. Its
# API port comes from FLOPY-NET's API_PORT, so its reaching healthy also shows the HEALTHCHECK follows the port.
check_sigterm_flush() {
	cat >"$WORK/flush.toml" <<-'EOF'
		[agent]
		interval = "0.5s"
		data_dir = "/app/data"
		self_metrics_interval = "0s"
		[[monitors.system]]
		[[sinks.jsonl]]
		directory = "/app/logs"
		flush_interval = "1h"
		batch_size = 100000
		[server]
		host = "0.0.0.0"
		port = 8000
	EOF
	local container="$RUN_ID-flush" buffered=0 deadline lines
	$ENGINE volume create --label "flcollector.test=$RUN_ID" "$RUN_ID-flush-logs" >/dev/null
	$ENGINE run --detach --name "$container" --label "flcollector.test=$RUN_ID" -e API_PORT=8100 \
		-v "$WORK/flush.toml:/app/config/flush.toml:ro" -e FLCOLLECTOR_CONFIG=/app/config/flush.toml \
		-v "$RUN_ID-flush-logs:/app/logs" "$IMAGE" >/dev/null
	wait_healthy "$container" 60
	deadline=$((SECONDS + 30))
	while ((SECONDS < deadline && buffered < 5)); do
		buffered="$($ENGINE exec "$container" python -c 'import json, urllib.request as u
print(json.load(u.urlopen("http://127.0.0.1:8100/health"))["agent_components"]["sink:jsonl"]["buffer_fill"])')"
		sleep 1
	done
	((buffered >= 5)) || die "no records buffered in the JSONL sink"
	$ENGINE stop --time 20 "$container" >/dev/null
	[[ "$($ENGINE inspect --format '{{.State.ExitCode}}' "$container")" == 0 ]] || die "the agent exited non-zero on SIGTERM"
	lines="$($ENGINE run --rm --label "flcollector.test=$RUN_ID" --volumes-from "$container" --entrypoint sh "$IMAGE" \
		-c 'cat /app/logs/metrics-*.jsonl | wc -l')"
	((lines >= buffered)) || die "$lines archived lines after SIGTERM, but $buffered were buffered before it"
	log "SIGTERM flush: healthy on API_PORT 8100, $buffered records buffered, $lines in the archive after stop: ok"
}

# ---- main ------------------------------------------------------------------------------------------------------

command -v "$ENGINE" >/dev/null || die "$ENGINE is not installed"
[[ -n "$VERSION" ]] || die "cannot read the version from pyproject.toml"
case "${1:-all}" in
build) build_image ;;
all)
	[[ "$ENGINE" == podman ]] || die "the checks drive podman (healthcheck run, --volumes-from); CONTAINER_ENGINE=$ENGINE"
	"$PYTHON" -c 'import yaml' || die "$PYTHON has no PyYAML: install the dev extra (pip install -e '.[dev]')"
	build_image
	check_image
	check_entrypoint_errors
	check_topology
	check_sigterm_flush
	log "image $IMAGE: $(image_mib "$IMAGE") MiB, built in $BUILD_SECONDS s; every check passed"
	;;
*)
	sed -n '4,5p' "$0" >&2
	exit 2
	;;
esac
