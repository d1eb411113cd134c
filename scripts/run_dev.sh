#!/usr/bin/env bash
# Development run: migrate, load the demo data, then the web server and one Celery
# worker with embedded beat side by side. Ctrl-C stops both; if either one dies,
# the other is stopped too, so nothing is left running in the background.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
HOST=127.0.0.1
PORT="${PORT:-8000}"
export DEBUG="${DEBUG:-1}"
# Links in e-mails and the login address printed below follow the port.
export SITE_URL="${SITE_URL:-http://$HOST:$PORT}"
# The web server and the worker count into one directory, so /metrics shows both.
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$PWD/var/metrics}"
rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"

"$BIN/python" manage.py migrate --noinput
demo_logins="$("$BIN/python" manage.py seed_demo)"

pids=()
# setsid gives each process its own process group: the terminal's Ctrl-C reaches only
# this script, which then stops each process the way it expects (warm shutdown for
# Celery) and, after a grace period, kills whatever is left of its group.
start() {
    setsid "$@" &
    pids+=("$!")
}

stopping=0
stop() {
    [[ $stopping == 1 ]] && return
    stopping=1
    echo
    echo "Stopping web server and worker..."
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    (
        trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
        sleep 15 &
        sleeper=$!
        wait "$sleeper"
        for pid in "${pids[@]}"; do
            kill -KILL -- "-$pid" 2>/dev/null || true
        done
    ) &
    local watchdog=$!
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    kill "$watchdog" 2>/dev/null || true
    # Children of the servers (runserver's reloaded child, Celery's pool and beat).
    for pid in "${pids[@]}"; do
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

start "$BIN/python" manage.py runserver "$HOST:$PORT"
start "$BIN/celery" -A config worker -B -l info --concurrency 1

both_running() {
    [[ $(jobs -rp | wc -l) -ge ${#pids[@]} ]]
}

# Print the banner below the startup logs, once the web server answers.
sleep 1
for _ in $(seq 60); do
    both_running || break
    if (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
        break
    fi
    sleep 0.5
done
both_running && cat <<BANNER

========================================================================
Transbordo is running: http://$HOST:$PORT/
API docs: http://$HOST:$PORT/api/docs/
Health: http://$HOST:$PORT/healthz  /readyz  /metrics

$demo_logins

Ctrl-C stops the web server and the worker.
========================================================================

BANNER

status=0
wait -n "${pids[@]}" || status=$?
echo "A process exited with status $status; stopping the other." >&2
exit "$status"
