#!/usr/bin/env bash
# A Debian bookworm root filesystem with python3, as a tarball for `docker import`: the image's
# BASE on machines that cannot pull the official python image (ours reach no registry).
#
#   docker import "$(sudo scripts/debian-base.sh)" debian-python3:bookworm
#   docker build --build-arg BASE=debian-python3:bookworm .
#
# Prints the tarball's path. debootstrap builds it once (about 40 s, as root) into the cache,
# $BASE_CACHE_DIR (default /var/cache/fastapi-alembic-template), outside any checkout, so every
# clone and CI run on the machine share it. It is built again when the recipe below changes or
# the tarball is a week old (Debian's security updates come in). To clear the cache:
#   rm -rf /var/cache/fastapi-alembic-template
# DEBIAN_MIRROR picks another mirror than deb.debian.org.
set -euo pipefail

readonly SUITE=bookworm
readonly PACKAGES=python3,python3-venv,ca-certificates
readonly MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
readonly CACHE_DIR=${BASE_CACHE_DIR:-/var/cache/fastapi-alembic-template}
readonly MAX_AGE_DAYS=7
# Trimmed like the official slim images: no docs, man pages or translations, and none of apt's
# package lists or downloaded .debs (a build that needs apt runs `apt-get update` first).
readonly TRIM=(usr/share/doc usr/share/man usr/share/info usr/share/locale
    var/lib/apt/lists var/cache/apt)

die() {
    echo "error: $*" >&2
    exit 1
}

[[ $EUID -eq 0 ]] || die "debootstrap needs root; run this script as root"
command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install debootstrap)"

recipe=$(printf '%s\n' "$SUITE" "$PACKAGES" "${TRIM[@]}" | sha256sum | cut -c1-12)
tarball="$CACHE_DIR/debian-$SUITE-python3-$recipe.tar"

mkdir -p "$CACHE_DIR"
# One builder at a time; the others wait here, then find the fresh tarball.
exec {lock}>"$CACHE_DIR/.lock"
flock "$lock"

if [[ -z $(find "$tarball" -mtime -"$MAX_AGE_DAYS" 2>/dev/null) ]]; then
    echo "building the base image's root filesystem (debootstrap $SUITE, $PACKAGES)" >&2
    rootfs=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs" "$rootfs.log" "$tarball.partial"' EXIT
    if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$MIRROR" \
        >"$rootfs.log" 2>&1; then
        tail -n 5 "$rootfs.log" >&2
        [[ -e $tarball ]] || die "debootstrap failed (its last lines are above)"
        # A refresh that failed (the mirror unreachable, say) is no reason to stop the build.
        echo "warning: debootstrap failed; using the tarball of $(date -r "$tarball" +%F)" >&2
        echo "$tarball"
        exit 0
    fi
    for path in "${TRIM[@]}"; do
        find "$rootfs/$path" -mindepth 1 \( -type f -o -type l \) -delete
    done
    tar -C "$rootfs" -cf "$tarball.partial" .
    # Older recipes' tarballs go; the rename is atomic, so readers never see half a tarball.
    find "$CACHE_DIR" -maxdepth 1 -name "debian-*.tar" ! -name "${tarball##*/}" -delete
    mv "$tarball.partial" "$tarball"
fi

echo "$tarball"
