#!/usr/bin/env bash
# Container smoke test: build the image and run it as a user would, against a fresh database on
# the local PostgreSQL. Run by .ci/run after the test suite; needs root.
#
#   ./scripts/container-smoke.sh
#
# It starts a private Docker engine whose data, state and socket live in a temporary folder, with
# host networking only (no bridge, no iptables rules, no IP forwarding), so all traffic stays on
# loopback. No registry image can be pulled here, so the image is built FROM Debian's python3,
# made by scripts/debian-base.sh (cached across runs; that script says how to clear it).
# Everything made here (engine, images, container, database) is removed at exit, failure or not.
# Where no engine can be started it says why in one line and exits 0, the image unproven.
#
# TEST_POSTGRES_URL names the server as for the test suite (default
# postgresql://postgres@127.0.0.1:5432/postgres); it must be on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly SERVER_URL=${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
readonly CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
# Named after the project (pyproject.toml): a service made from this template gets its own images.
project=$(sed -n 's/^name = "\(.*\)"$/\1/p' pyproject.toml | head -n 1)
readonly IMAGE="$project:smoke"
readonly BASE_IMAGE="$project-base:bookworm"
readonly STOP_GRACE_SECONDS=10

skip() {
    echo "container smoke test skipped: $*"
    exit 0
}

die() {
    echo "container smoke test failed: $*" >&2
    exit 1
}

passed=0
failed=0
# check DESCRIPTION COMMAND...: one line per check; the run goes on, and fails at the end.
check() {
    local description=$1
    shift
    if "$@"; then
        echo "ok    $description"
        passed=$((passed + 1))
    else
        echo "FAIL  $description"
        failed=$((failed + 1))
    fi
}

# Debian's own client for Debian's engine: it builds with the engine's BuildKit, where a newer
# client (like the one in /usr/local/bin here) wants the buildx plugin.
docker() {
    DOCKER_BUILDKIT=1 /usr/bin/docker "$@"
}

millis() {
    echo $(($(date +%s%N) / 1000000))
}

seconds() {
    echo "$(($1 / 1000)).$(($1 % 1000 / 100))"
}

readonly LOOPBACK_HOST='(127\.[0-9.]+|localhost|\[::1\])'
readonly LOOPBACK_URL="^postgres(ql)?://([^@/]+@)?$LOOPBACK_HOST(:[0-9]+)?/[^/?#]+\$"
[[ $SERVER_URL =~ $LOOPBACK_URL ]] ||
    die "TEST_POSTGRES_URL must be postgresql://[user[:password]@]<loopback host>[:port]/<database>"
command -v psql >/dev/null || die "psql not found; install postgresql-client"
if ! error=$(psql "$SERVER_URL" --no-psqlrc --command 'SELECT 1' 2>&1 >/dev/null); then
    die "PostgreSQL did not answer: ${error%%$'\n'*}"
fi
[[ $(uname -s) == Linux ]] || skip "it starts its own Docker engine, which needs Linux"
[[ $EUID -eq 0 ]] || skip "it starts its own Docker engine, which needs root"

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
    command -v apt-get >/dev/null || skip "${missing[*]} missing and no apt-get to install it"
    echo "installing ${missing[*]} (Debian packages)"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install --yes \
        --no-install-recommends "${missing[@]}"; } >/dev/null 2>&1 ||
        skip "could not install ${missing[*]} with apt-get"
fi
[[ -x /usr/bin/docker ]] || skip "no Docker client at /usr/bin/docker (Debian's docker.io has one)"

work=$(mktemp -d /tmp/container-smoke.XXXXXX)
export DOCKER_HOST="unix://$work/docker.sock" DOCKER_CONFIG="$work/client"
database=""
container=""
key_was_there=no
[[ -e /etc/docker/key.json ]] && key_was_there=yes

stop_engine() {
    [[ -n ${dockerd_pid:-} ]] || return 0
    kill -TERM "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$dockerd_pid" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$dockerd_pid" 2>/dev/null; then
        kill -KILL "$dockerd_pid" 2>/dev/null || true
        # A killed dockerd leaves its containerd behind.
        if [[ -s $work/exec/containerd/containerd.pid ]]; then
            kill -KILL "$(cat "$work/exec/containerd/containerd.pid")" 2>/dev/null || true
        fi
    fi
    wait "$dockerd_pid" 2>/dev/null || true
    # Even a clean stop leaves the engine's network namespace mounted under exec-root.
    awk -v root="$work/" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r |
        xargs -r umount --lazy
}

cleanup() {
    local status=$?
    set +e
    [[ -n $container ]] && docker rm --force "$container" >/dev/null 2>&1
    [[ -n $database ]] && psql "$SERVER_URL" --quiet --no-psqlrc \
        --command "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null
    stop_engine
    # dockerd 20.10 writes a trust key there whatever its roots are.
    [[ $key_was_there == no ]] && rm -f /etc/docker/key.json
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "--- starting a private Docker engine in $work"
mkdir -p "$work/client"
echo '{}' >"$work/daemon.json"
dockerd --config-file "$work/daemon.json" \
    --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" \
    --host "$DOCKER_HOST" \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    >"$work/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 60); do
    docker version >/dev/null 2>&1 && break
    kill -0 "$dockerd_pid" 2>/dev/null ||
        skip "the Docker engine did not start: $(grep -o 'msg=.*' "$work/dockerd.log" | tail -n 1)"
    sleep 0.5
done
docker version >/dev/null 2>&1 || skip "the Docker engine did not answer within 30 s"

base_tarball=$(scripts/debian-base.sh)
echo "--- building the image (base: Debian's python3, imported from $base_tarball)"
docker import "$base_tarball" "$BASE_IMAGE" >/dev/null
secret=()
# The host's CA bundle reaches PyPI through this machine's TLS-inspecting proxy; a secret mount.
[[ -r $CA_BUNDLE ]] && secret=(--secret "id=ca,src=$CA_BUNDLE")
build_started=$(millis)
if ! docker build --network host "${secret[@]}" --build-arg BASE="$BASE_IMAGE" --tag "$IMAGE" . \
    >"$work/build.log" 2>&1; then
    tail -n 30 "$work/build.log"
    die "docker build failed (its last lines are above)"
fi
build_ms=$(($(millis) - build_started))

echo "--- running it against a fresh database"
database="container_smoke_$$_$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
psql "$SERVER_URL" --quiet --no-psqlrc --set ON_ERROR_STOP=1 \
    --command "CREATE DATABASE \"$database\"" >/dev/null
database_url="${SERVER_URL%/*}/$database"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
base_url="http://127.0.0.1:$port"
# Host network, bound to loopback. The health check runs every second instead of every 15 s,
# so the test need not wait; its command is the image's own.
container=$(docker run --detach --network host --health-interval 1s \
    --env DATABASE_URL="$database_url" --env HOST=127.0.0.1 --env PORT="$port" "$IMAGE")

ready=""
for _ in $(seq 120); do
    [[ $(docker inspect --format '{{.State.Running}}' "$container") == true ]] || break
    ready=$(curl --silent --output /dev/null --write-out '%{http_code}' "$base_url/health/ready" ||
        true)
    [[ $ready == 200 ]] && break
    sleep 0.5
done
if [[ $ready != 200 ]]; then
    docker logs "$container" 2>&1 | tail -n 30
    state=$(docker inspect --format '{{.State.Status}}' "$container")
    die "the service was not ready within 60 s (container $state; its last lines are above)"
fi

echo "--- checks"
check "GET /health/ready answers 200" test "$ready" = 200

created_status=$(curl --silent --show-error --output "$work/created.json" \
    --dump-header "$work/headers" --write-out '%{http_code}' \
    --header 'content-type: application/json' \
    --data '{"email": "smoke@example.com", "full_name": "Smoke Test"}' "$base_url/users")
location=$(awk 'tolower($1) == "location:" { print $2 }' "$work/headers" | tr -d '\r')
fetched_status=$(curl --silent --show-error --output "$work/fetched.json" \
    --write-out '%{http_code}' "$base_url$location")
check "POST /users answers 201 with a Location" test "$created_status" = 201 -a -n "$location"
check "GET $location answers 200 with the created user" \
    test "$fetched_status" = 200 -a "$(cat "$work/created.json")" = "$(cat "$work/fetched.json")"

# A failed command leaves its variable empty, and the check says so.
heads=$(docker exec "$container" alembic heads | awk '{ print $1 }' | sort || true)
versions=$(psql "$database_url" --quiet --no-psqlrc --tuples-only --no-align \
    --command 'SELECT version_num FROM alembic_version' | sort || true)
check "alembic_version holds the head revision (${heads//$'\n'/ })" \
    test -n "$heads" -a "$heads" = "$versions"

docker logs "$container" >"$work/start.log" 2>&1
lines_in_order() {
    local previous=0 line pattern
    for pattern in "$@"; do
        line=$(grep --line-number --max-count 1 --fixed-strings "$pattern" "$work/start.log" |
            cut -d: -f1)
        [[ -n $line && $line -gt $previous ]] || return 1
        previous=$line
    done
}
check "the log shows: database up, migrations run, then uvicorn started" lines_in_order \
    "database at" "running migrations: alembic upgrade head" "Running upgrade" \
    "Started server process"

pid=$(docker inspect --format '{{.State.Pid}}' "$container")
image_user=$(docker image inspect --format '{{.Config.User}}' "$IMAGE")
uid=${image_user%%:*}
is_uvicorn_as_pid_1() {
    [[ $(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status") == 1 &&
        $(tr '\0' ' ' <"/proc/$pid/cmdline") == *"/uvicorn app.main:create_app "* ]]
}
check "PID 1 is uvicorn itself (exec'd, no shell in between)" is_uvicorn_as_pid_1
# Real, effective, saved and filesystem uid alike.
check "it runs as the image's non-root user ($image_user)" test "${uid:-0}" != 0 -a \
    "$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")" = "$uid $uid $uid $uid"

health=""
for _ in $(seq 30); do
    health=$(docker inspect --format '{{.State.Health.Status}}' "$container")
    [[ $health == starting ]] || break
    sleep 0.5
done
check "the image's HEALTHCHECK reports healthy (got: $health)" test "$health" = healthy

stop_started=$(millis)
docker stop --time "$STOP_GRACE_SECONDS" "$container" >/dev/null
stop_ms=$(($(millis) - stop_started))
exit_code=$(docker inspect --format '{{.State.ExitCode}}' "$container")
docker logs "$container" >"$work/all.log" 2>&1
# uvicorn re-raises the SIGTERM it handled; as PID 1 it is not killed by it, so it exits 0.
stopped="docker stop: exit code 0 (got $exit_code) after $(seconds "$stop_ms") s"
check "$stopped, within the $STOP_GRACE_SECONDS s grace" \
    test "$exit_code" = 0 -a "$stop_ms" -lt $((STOP_GRACE_SECONDS * 1000))
shut_down_gracefully() {
    grep --quiet "Application shutdown complete" "$work/all.log" &&
        ! grep --quiet Traceback "$work/all.log"
}
check "uvicorn shut down gracefully, no traceback in the log" shut_down_gracefully

# The README's migration step for deploys that run it on its own: at head it changes nothing.
migrate_again() {
    local output
    output=$(docker run --rm --network host --env DATABASE_URL="$database_url" \
        --entrypoint alembic "$IMAGE" upgrade head 2>&1) &&
        [[ $output != *"Running upgrade"* ]]
}
check "docker run --entrypoint alembic ... upgrade head: a no-op at head" migrate_again

echo "--- what the image holds"
docker export "$container" | tar -t >"$work/files"
# absent REGEX: no path in the image matches; else show the first few that do.
absent() {
    local found
    found=$(grep -E "$1" "$work/files" || true)
    [[ -z $found ]] && return 0
    head -n 3 <<<"$found" | sed 's/^/      found: /'
    return 1
}
check "no tests" absent '^app/(tests/|conftest\.py$)'
check "no .env, no .git" absent '(^|/)(\.env|\.git)(/|$)'
check "no uv, no pip or uv cache" absent '(^|/)uvx?(/|$)|(^|/)\.cache/'
check "no compilers or binutils" absent \
    '^usr/(local/)?bin/([a-z0-9_]+-linux-gnu-)?(gcc|cc|g\+\+|c\+\+|ld|as|strip|make)(-[0-9.]+)?$'

# The secret: any certificate of the host's bundle the base's own bundle lacks (this machine's
# proxy CA) must appear in no layer. A line of each, as PEM files hold them, is the needle.
pem_bodies() {
    awk '/-----BEGIN/ { body = "" } !/-----/ { body = body $0 } /-----END/ { print body }' "$@" |
        sort -u
}
docker cp "$container:$CA_BUNDLE" "$work/image-bundle.crt"
comm -23 <(pem_bodies "$CA_BUNDLE") <(pem_bodies "$work/image-bundle.crt") | cut -c 65-128 \
    >"$work/needles"
if [[ -s $work/needles ]]; then
    # grep reads to the end (--count, not -q), so no SIGPIPE upsets pipefail; its status 1
    # means "none found", 2 a real error.
    leaks=$(docker save "$IMAGE" | tar -xO |
        { grep --text --count --fixed-strings --file "$work/needles" || (($? == 1)); })
    check "no layer holds the build secret's CA certificates ($(wc -l <"$work/needles") sought)" \
        test "$leaks" = 0
else
    echo "note  the host's CA bundle adds nothing to the image's own: no secret to look for"
fi

size=$(docker image inspect --format '{{.Size}}' "$IMAGE")
base_size=$(docker image inspect --format '{{.Size}}' "$BASE_IMAGE")
echo "image size: $((size / 1000000)) MB" \
    "($((base_size / 1000000)) MB base + $(((size - base_size) / 1000000)) MB service)"
echo "build time: $(seconds "$build_ms") s (no build cache: each run has a fresh engine)"
echo "container smoke test took ${SECONDS} s"
echo "smoke: $passed passed, $failed failed"
((failed == 0))
