#!/usr/bin/env bash
# The base image of flcollector's container, and the image's lock file, made without any container registry.
#
#   container/base-image.sh make   make the base if it is missing (debootstrap, about 90 s), else say it is kept
#   container/base-image.sh lock   rewrite container/constraints.txt, resolved inside the base image
#
# The base is a Debian bookworm minbase (debootstrap --variant=minbase, with the security updates) with python3,
# python3-venv and CA certificates, slimmed as Debian's slim images are, and imported under the name that
# container/Dockerfile pins in ARG BASE_IMAGE: `localhost/flcollector-base:debian<point release>-python<version>`.
# When debootstrap gives another Debian point release or Python version than the tag says, it stops and says which
# tag to pin instead: the tag never lies about what is inside. Needs root, debootstrap and podman (CONTAINER_ENGINE
# may name docker). container/test-image.sh calls `make` first; .ci/run calls test-image.sh.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENGINE="${CONTAINER_ENGINE:-podman}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
DEBIAN_SECURITY="${DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
CA_BUNDLE="${FLCOLLECTOR_BUILD_CA:-${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}}"
BASE_IMAGE="$(sed -n 's/^ARG BASE_IMAGE=//p' "$REPO/container/Dockerfile")"

log() { echo "base-image: $*" >&2; }
die() {
	log "FAILED: $*"
	exit 1
}

WORK="$(mktemp -d /tmp/flcollector-base-image.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

image_mib() { echo $(($($ENGINE image inspect --format '{{.Size}}' "$1") / 1048576)); }

# The Debian point release and Python version that the Dockerfile's tag pins (debian12.15-python3.11.2).
pinned() {
	[[ "$BASE_IMAGE" =~ :debian([0-9.]+)-python([0-9.]+)$ ]] || die "cannot read the pinned versions from $BASE_IMAGE"
	echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
}

# Drop what a container never reads, as Debian's slim images do (and keep it out of later installs).
slim_rootfs() {
	local root=$1
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/* \
		"$root"/var/log/*.log "$root"/var/log/apt/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
		"$root"/usr/share/groff/* "$root"/usr/share/lintian/* "$root"/usr/share/linda/* "$root"/usr/share/locale/*
	find "$root/usr/share/doc" -mindepth 1 -not -type d -not -name copyright -delete
	find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
	cat >"$root/etc/dpkg/dpkg.cfg.d/flcollector-slim" <<-'EOF'
		path-exclude /usr/share/doc/*
		path-include /usr/share/doc/*/copyright
		path-exclude /usr/share/man/*
		path-exclude /usr/share/groff/*
		path-exclude /usr/share/info/*
		path-exclude /usr/share/lintian/*
		path-exclude /usr/share/linda/*
		path-exclude /usr/share/locale/*
	EOF
	: >"$root/etc/resolv.conf" # the engine provides its own; the host's says nothing about a container
	: >"$root/etc/machine-id"
	rm -f "$root/etc/hostname"
}

make_base() {
	if $ENGINE image exists "$BASE_IMAGE"; then
		log "base $BASE_IMAGE: present, kept"
		return
	fi
	command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
	local root="$WORK/rootfs" started=$SECONDS debian python want_debian want_python
	read -r want_debian want_python <<<"$(pinned)"
	log "base: debootstrap --variant=minbase bookworm from $DEBIAN_MIRROR"
	debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" \
		"$DEBIAN_MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
		tail -20 "$WORK/debootstrap.log" >&2
		die "debootstrap failed"
	}
	cat >"$root/etc/apt/sources.list" <<-EOF
		deb $DEBIAN_MIRROR bookworm main
		deb $DEBIAN_MIRROR bookworm-updates main
		deb $DEBIAN_SECURITY bookworm-security main
	EOF
	log "base: security updates"
	if ! { chroot "$root" apt-get update -qq &&
		chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get upgrade -y -qq; } >"$WORK/apt.log" 2>&1; then
		tail -20 "$WORK/apt.log" >&2
		die "apt-get upgrade in the base failed"
	fi
	debian="$(cat "$root/etc/debian_version")"
	python="$(chroot "$root" python3 -c 'import platform; print(platform.python_version())')"
	if [[ "$debian" != "$want_debian" || "$python" != "$want_python" ]]; then
		die "debootstrap gave Debian $debian with Python $python, but container/Dockerfile pins $BASE_IMAGE:" \
			"update ARG BASE_IMAGE to localhost/flcollector-base:debian$debian-python$python (a new point release)"
	fi
	slim_rootfs "$root"
	tar --numeric-owner --sort=name -C "$root" -c . | $ENGINE import \
		--change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		--change "ENV LANG=C.UTF-8" \
		--change "LABEL org.opencontainers.image.title=flcollector-base" \
		--change "LABEL org.opencontainers.image.version=debian$debian-python$python" \
		--change 'CMD ["python3"]' \
		--message "debootstrap --variant=minbase bookworm (Debian $debian), python3 $python, python3-venv" \
		- "$BASE_IMAGE" >"$WORK/import.log" 2>&1 || { cat "$WORK/import.log" >&2; die "$ENGINE import failed"; }
	rm -rf "$root"
	log "base $BASE_IMAGE made in $((SECONDS - started)) s: id $($ENGINE image inspect --format '{{.Id}}' "$BASE_IMAGE")," \
		"$(image_mib "$BASE_IMAGE") MiB"
}

write_lock() {
	make_base
	local out="$REPO/container/constraints.txt"
	log "lock: resolving flcollector[parquet,report] in $BASE_IMAGE"
	{
		cat <<-EOF
			# The image's lock: exact versions of flcollector's dependencies with the parquet and report extras, and setuptools to
			# build flcollector itself (pip install --no-build-isolation), resolved for the Python of
			# $BASE_IMAGE.
			# Regenerate with \`container/base-image.sh lock\` when pyproject.toml's dependencies change
			# (tests/container/test_dockerfile.py checks that the two agree).
		EOF
		$ENGINE run --rm -v "$REPO:/repo:ro" -v "$CA_BUNDLE:/run/secrets/pip_ca:ro" \
			-e PIP_CERT=/run/secrets/pip_ca -e PIP_DISABLE_PIP_VERSION_CHECK=1 "$BASE_IMAGE" sh -euc '
				mkdir /tmp/src && cd /repo && cp -r pyproject.toml setup.py README.md core plugins /tmp/src/
				python3 -m venv /tmp/venv
				/tmp/venv/bin/pip install --quiet "/tmp/src[parquet,report]" "setuptools>=70.1" >&2
				/tmp/venv/bin/pip freeze --all --exclude flcollector --exclude pip'
	} >"$WORK/constraints.txt"
	mv "$WORK/constraints.txt" "$out"
	log "lock: wrote $out ($(grep -c '==' "$out") packages)"
}

command -v "$ENGINE" >/dev/null || die "$ENGINE is not installed"
[[ -n "$BASE_IMAGE" ]] || die "cannot read ARG BASE_IMAGE from container/Dockerfile"
case "${1:-make}" in
make) make_base ;;
lock) write_lock ;;
*)
	sed -n '4,5p' "$0" >&2
	exit 2
	;;
esac
