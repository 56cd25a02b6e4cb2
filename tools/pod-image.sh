#!/usr/bin/env bash
# Builds nodeguard's container image from a .deb that a build already made (no second compile),
# with Debian packages only and no container registry:
#   1. a runtime base image: `mmdebstrap --variant=minbase bookworm` with the .deb's
#      dependencies (so the image build needs no network), imported with `podman import`; the
#      tarball is cached under NG_IMAGE_CACHE (default /var/cache/nodeguard-image), keyed by the
#      package list, and the image is tagged localhost/nodeguard-runtime-base:<key>;
#   2. `podman build --network none --target image-from-deb` of packaging/Dockerfile.
# Podman runs with the project's containers.conf (CONTAINERS_CONF, never /etc's).
#   tools/pod-image.sh --deb build/nodeguard_0.1.0_amd64.deb --tag localhost/nodeguard:dev
# Prints the image's size on stderr and its reference on stdout.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
deb= tag=localhost/nodeguard:dev
while (($#)); do
  case $1 in
    --deb) deb=$2; shift ;;
    --tag) tag=$2; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "pod-image: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ -f $deb ]] || { echo "pod-image: --deb FILE is required (cpack -G DEB in a build dir)" >&2; exit 2; }
for t in podman mmdebstrap dpkg-deb; do
  command -v "$t" >/dev/null || { echo "pod-image: $t missing: run tools/install-deps.sh" >&2; exit 2; }
done
export CONTAINERS_CONF=${CONTAINERS_CONF:-$src/packaging/podman/containers.conf}
cache=${NG_IMAGE_CACHE:-/var/cache/nodeguard-image}
mkdir -p "$cache"

# The .deb's dependencies by name ("a (>= 1) | b" -> a): mmdebstrap resolves the rest.
mapfile -t deps < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/ //g' |
  grep -v '^$' | sort -u)
# Bump when the recipe below changes, so a cached base made the old way is not reused.
recipe=4
key=$(printf '%s\n' "bookworm" "recipe=$recipe" "${deps[@]}" | sha256sum | cut -c1-12)
base=localhost/nodeguard-runtime-base:$key
if ! podman image exists "$base"; then
  tarball=$cache/runtime-base-$key.tar
  if [[ ! -s $tarball ]]; then
    echo "pod-image: mmdebstrap of the runtime base (${#deps[@]} packages, about a minute)" >&2
    # Docs, manuals and translations never reach the image: smaller, and nothing reads them.
    # usrmerge (pulled in for the merged /usr) brings the whole of perl; the tree is merged
    # already, so it and perl go again (perl-base, essential, stays): about 30 MB.
    mmdebstrap --variant=minbase --quiet \
      --include="$(IFS=,; echo "${deps[*]}"),usr-is-merged" \
      --customize-hook='chroot "$1" dpkg --purge usrmerge libfile-find-rule-perl libnumber-compare-perl libtext-glob-perl perl perl-modules-5.36 libperl5.36 || true' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --aptopt='APT::Install-Recommends "false"' \
      --format=tar bookworm "$tarball.tmp.$$" >&2
    mv "$tarball.tmp.$$" "$tarball"
    # Only the current recipe and package list are worth keeping.
    find "$cache" -maxdepth 1 -name 'runtime-base-*.tar' ! -name "runtime-base-$key.tar" -delete
  fi
  # An imported tarball has no PATH.
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" "$base" >/dev/null
  # Older bases of this project (another package list or recipe); one in use stays.
  for old in $(podman images --format '{{.Repository}}:{{.Tag}}' localhost/nodeguard-runtime-base); do
    [[ $old == "$base" ]] || podman rmi "$old" >/dev/null 2>&1 || true
  done
fi

ctx=$(mktemp -d /tmp/ng-image-XXXXXX)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/deb" "$ctx/packaging/image"
cp "$deb" "$ctx/deb/"
cp "$src/packaging/image/install-deb.sh" "$ctx/packaging/image/"
podman build --quiet --network none --target image-from-deb --build-arg RUNTIME_IMAGE="$base" \
  -f "$src/packaging/Dockerfile" -t "$tag" "$ctx" >/dev/null
size=$(podman image inspect "$tag" --format '{{.Size}}')
echo "pod-image: $tag: $((size / 1000000)) MB (base $base)" >&2
echo "$tag"
