#!/usr/bin/env bash
# Makes the base image where no image registry answers: a minimal Debian
# bookworm rootfs from debootstrap (Debian's archive only), imported with
# `docker import`.
#   docker/make-base.sh [TAG]        import as TAG (default dmafault/base:bookworm);
#                                    an existing TAG is kept (DOCKER_HOST honoured)
#   docker/make-base.sh --tar FILE   only write the rootfs tarball (dmafault run
#                                    --docker imports it into each engine itself)
# Root only (debootstrap). DMAFAULT_DEBIAN_MIRROR overrides the mirror.
set -euo pipefail
mirror=${DMAFAULT_DEBIAN_MIRROR:-http://deb.debian.org/debian}
tar_out=
tag=dmafault/base:bookworm
if [ "${1:-}" = --tar ]; then
	tar_out=${2:?--tar needs a file name}
elif [ -n "${1:-}" ]; then
	tag=$1
fi

if [ -z "$tar_out" ] && docker image inspect "$tag" > /dev/null 2>&1; then
	echo "make-base: $tag exists"
	exit 0
fi
command -v debootstrap > /dev/null || {
	echo "make-base: debootstrap is missing: apt-get install debootstrap" >&2
	exit 1
}
root=$(mktemp -d /tmp/dmafault-base.XXXXXX)
trap 'rm -rf "$root" "$root.log"' EXIT
echo "make-base: debootstrap --variant=minbase bookworm from $mirror" >&2
if ! debootstrap --variant=minbase bookworm "$root" "$mirror" > "$root.log" 2>&1; then
	tail -20 "$root.log" >&2
	echo "make-base: debootstrap failed" >&2
	exit 1
fi
# As debian:bookworm-slim: the archive's sources, no downloaded packages or lists.
cat > "$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
if [ -n "$tar_out" ]; then
	tar -C "$root" --numeric-owner -cf "$tar_out.part" . && mv "$tar_out.part" "$tar_out"
	echo "make-base: wrote $tar_out" >&2
	exit 0
fi
echo "make-base: importing as $tag" >&2
tar -C "$root" --numeric-owner -c . | docker import \
	--change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
	--message "debootstrap --variant=minbase bookworm $mirror" - "$tag"
