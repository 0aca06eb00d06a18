#!/bin/sh
# Start Podman's Docker-compatible API on a unix socket, isolated from the machine's own Podman setup.
#
#   tests/clients/podman_service.sh start DIR [REGISTRY...]   prints the socket URL (unix://DIR/podman.sock)
#   tests/clients/podman_service.sh stop DIR
#
# Everything lives in DIR: vfs storage (works in any container, no overlay or fuse needed), chroot
# isolation for builds, runc with cgroup_manager=cgroupfs (no systemd here), and a registries.conf that
# marks each REGISTRY (host:port on the loopback) insecure=true, since the sandbox serves plain HTTP.
# Meant to run as root, as CI does.
set -eu

action=${1:?usage: $0 start|stop DIR [REGISTRY...]}
dir=${2:?usage: $0 start|stop DIR [REGISTRY...]}
shift 2

case "$action" in
start)
    mkdir -p "$dir"
    cat > "$dir/storage.conf" <<CONF
[storage]
driver = "vfs"
runroot = "$dir/run"
graphroot = "$dir/graph"
CONF
    cat > "$dir/containers.conf" <<CONF
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$dir/events.log"
runtime = "runc"
CONF
    {
        echo 'unqualified-search-registries = []'
        for registry in "$@"; do
            printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$registry"
        done
    } > "$dir/registries.conf"
    CONTAINERS_STORAGE_CONF="$dir/storage.conf" \
    CONTAINERS_CONF="$dir/containers.conf" \
    CONTAINERS_REGISTRIES_CONF="$dir/registries.conf" \
    BUILDAH_ISOLATION=chroot \
    REGISTRY_AUTH_FILE="$dir/auth.json" \
        podman --root "$dir/graph" --runroot "$dir/run" system service --time=0 "unix://$dir/podman.sock" \
        > "$dir/service.log" 2>&1 &
    echo $! > "$dir/service.pid"
    i=0
    until [ -S "$dir/podman.sock" ]; do
        i=$((i + 1))
        if [ "$i" -gt 100 ] || ! kill -0 "$(cat "$dir/service.pid")" 2>/dev/null; then
            echo "podman system service did not start:" >&2
            cat "$dir/service.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "unix://$dir/podman.sock"
    ;;
stop)
    if [ -f "$dir/service.pid" ]; then
        pid=$(cat "$dir/service.pid")
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$dir/service.pid"
    fi
    ;;
*)
    echo "usage: $0 start|stop DIR [REGISTRY...]" >&2
    exit 2
    ;;
esac
