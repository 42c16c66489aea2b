# Shared shell functions for the Debian 13 (trixie) test platform.
#
# Sourced by make-tree, mounts and in-tree-make. Knows where the tree and its cache
# live and how to bind the kernel file systems into it while something runs there.
# Everything here runs as root on the host.

D13_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
D13_REPO=$(cd "$D13_HERE/../../.." && pwd)

# Overridable from the environment; paths are host-side.
: "${D13_ROOT:=$D13_REPO/build/debian13/root}"
: "${D13_CACHE:=$D13_REPO/build/cache/debian13-root.tar.zst}"
: "${D13_MIRROR:=http://deb.debian.org/debian}"
: "${D13_SUITE:=trixie}"

# The stamp file that marks a complete tree; its content is the recipe version,
# so a changed package list makes both the tree and the cached tarball stale.
D13_STAMP_NAME=.mailpolicy-debian13-tree
D13_RECIPE_VERSION=1

d13_log() { printf 'debian13: %s\n' "$*" >&2; }
d13_die() { printf 'debian13: error: %s\n' "$*" >&2; exit 1; }

d13_need_root() {
	[ "$(id -u)" = 0 ] || d13_die "must run as root"
}

# d13_abs PATH: PATH made absolute (it need not exist yet).
d13_abs() {
	case "$1" in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(pwd)" "$1" ;;
	esac
}

# d13_tree_complete ROOT [RECIPE]: true when ROOT carries the stamp of RECIPE.
d13_tree_complete() {
	local stamp="$1/$D13_STAMP_NAME"
	[ -f "$stamp" ] && [ "$(head -n1 "$stamp")" = "${2:-}" ]
}

# d13_chrooted_pids ROOT: pids of processes whose root directory is ROOT.
d13_chrooted_pids() {
	local root p
	root=$(readlink -f "$1")
	# One find, not a readlink per process: this runs in wait loops.
	find /proc/[0-9]*/root -maxdepth 0 -lname "$root" 2>/dev/null |
		while IFS=/ read -r _ _ p _; do printf '%s\n' "$p"; done
	return 0
}

# The bind mounts a running tree needs, in mount order.
d13_mountpoints() {
	printf '%s\n' "$1/proc" "$1/dev" "$1/dev/pts"
}

# d13_mount ROOT: bind /proc, /dev and /dev/pts into ROOT. Safe to call twice.
d13_mount() {
	local root=$1
	[ -d "$root/proc" ] && [ -d "$root/dev" ] || d13_die "$root is not a tree"
	mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
	mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
	mkdir -p "$root/dev/pts"
	mountpoint -q "$root/dev/pts" || mount --bind /dev/pts "$root/dev/pts"
}

# d13_umount ROOT [--force]: undo d13_mount, innermost first; lazy unmount when a
# plain one fails. Leaves the mounts alone (and says so) while processes still
# run chrooted in ROOT, unless --force. Safe to call twice, or on a bare tree.
d13_umount() {
	local root=$1 force=${2:-} pids m rc=0
	[ -d "$root" ] || return 0
	pids=$(d13_chrooted_pids "$root" | tr '\n' ' ')
	if [ -n "$pids" ] && [ "$force" != --force ]; then
		d13_log "not unmounting $root: processes still run in it: $pids"
		return 0
	fi
	for m in $(d13_mountpoints "$root" | tac); do
		mountpoint -q "$m" 2>/dev/null || continue
		umount "$m" 2>/dev/null || umount -l "$m" || rc=1
	done
	return $rc
}

# d13_mounted ROOT: true if any of the tree's mount points is mounted.
d13_mounted() {
	local m
	for m in $(d13_mountpoints "$1"); do
		mountpoint -q "$m" 2>/dev/null && return 0
	done
	return 1
}
