# shellcheck shell=bash
# Helpers shared by scripts/setup and scripts/test. Source it; don't run it.

log() { printf '==> %s\n' "$*"; }
warn() { printf '==> WARNING: %s\n' "$*" >&2; }
die() {
    printf '==> ERROR: %s\n' "$*" >&2
    exit 1
}

# Run a command as root (directly when we already are root, else via sudo).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo "$@"
    fi
}

# Temp directories removed when the script exits (cleanup_tmpdirs in a trap).
# Usage: make_tmpdir NAME VAR -- creates the directory and stores its path in
# VAR (not printed: a $(...) subshell would lose the bookkeeping).
TRIAGE_TMPDIRS=()
make_tmpdir() {
    local d
    d="$(mktemp -d "${TMPDIR:-/tmp}/triage-$1.XXXXXX")"
    TRIAGE_TMPDIRS+=("$d")
    printf -v "$2" '%s' "$d"
}
cleanup_tmpdirs() {
    local d
    for d in "${TRIAGE_TMPDIRS[@]}"; do
        rm -rf -- "$d"
    done
}

# Major version of the PostgreSQL server in use: the cluster on port 5432 if
# there is one, else the newest installed server.
pg_major() {
    local v="" d
    if command -v pg_lsclusters >/dev/null 2>&1; then
        v="$(pg_lsclusters --no-header 2>/dev/null | awk '$3 == 5432 { print $1; exit }')"
        if [ -z "$v" ]; then
            v="$(pg_lsclusters --no-header 2>/dev/null | awk '{ print $1 }' | sort -n | tail -n 1)"
        fi
    fi
    if [ -z "$v" ]; then
        for d in /usr/lib/postgresql/*/bin/postgres; do
            [ -e "$d" ] || continue
            d="${d#/usr/lib/postgresql/}"
            d="${d%%/*}"
            if [ -z "$v" ] || [ "$d" -gt "$v" ]; then v="$d"; fi
        done
    fi
    [ -n "$v" ] || return 1
    printf '%s\n' "$v"
}

# psql against the local server as the postgres superuser (trust auth).
pg_admin() {
    PGCONNECT_TIMEOUT=5 PGOPTIONS="-c client_min_messages=warning" \
        psql -h 127.0.0.1 -p 5432 -U postgres -d postgres \
        -X -q -A -t -v ON_ERROR_STOP=1 "$@" </dev/null
}

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }
