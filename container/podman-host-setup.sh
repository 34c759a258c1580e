#!/usr/bin/env bash
# Make this Debian machine able to run container/test-image.sh: rootful podman with runc, and debootstrap for the
# base image. Run as root; .ci/run calls it. Idempotent: it installs what is missing and (re)writes only its own
# podman drop-in, /etc/containers/containers.conf.d/50-flcollector.conf.
#
# Why each setting (all seen on the CI kind of machine, a VM without systemd or loadable kernel modules):
#   runtime = "runc"          Debian's podman asks for crun, which is not installed with --no-install-recommends
#   cgroup_manager, events    no systemd runs: cgroupfs, and events in a file instead of the journal
#   network_backend           netavark (Debian still defaults to CNI, whose plugins it does not install)
#   default_ulimits           podman's defaults exceed this machine's hard limits, which root here cannot raise (no
#                             CAP_SYS_RESOURCE): every container failed with "error setting rlimits". nofile: the
#                             hard limit; nproc: the hard limit, at most kernel.pid_max (above it runc was refused)
#   storage driver            overlay where the kernel has it, else vfs (slower, but needs nothing from the kernel)
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
missing=()
for tool in podman runc debootstrap netavark:/usr/lib/podman/netavark aardvark-dns:/usr/lib/podman/aardvark-dns \
	iptables curl; do
	name="${tool%%:*}" path="${tool#*:}"
	if [[ "$path" == "$tool" ]]; then
		command -v "$name" >/dev/null || missing+=("$name")
	else
		[[ -x "$path" ]] || missing+=("$name")
	fi
done
if ((${#missing[@]})); then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

nofile="$(ulimit -Hn)" nproc="$(ulimit -Hu)" pid_max="$(cat /proc/sys/kernel/pid_max)"
if [[ "$nproc" == unlimited ]] || ((nproc > pid_max)); then
	nproc=$pid_max
fi
[[ "$nofile" == unlimited ]] && nofile=1048576
mkdir -p /etc/containers/containers.conf.d
cat >/etc/containers/containers.conf.d/50-flcollector.conf <<EOF
# written by flcollector's container/podman-host-setup.sh
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"
EOF

if [[ ! -e /etc/containers/storage.conf ]]; then
	driver=vfs
	grep -qw overlay /proc/filesystems && driver=overlay
	cat >/etc/containers/storage.conf <<-EOF
		# written by flcollector's container/podman-host-setup.sh (overlay when the kernel has it, else vfs)
		[storage]
		driver = "$driver"
		runroot = "/run/containers/storage"
		graphroot = "/var/lib/containers/storage"
	EOF
fi

podman info --format 'podman {{.Version.Version}}: runtime {{.Host.OCIRuntime.Name}}, storage {{.Store.GraphDriverName}}, network {{.Host.NetworkBackend}}'
