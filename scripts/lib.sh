# Shared by scripts/local, scripts/test and scripts/lint: install what a fresh Debian machine
# with only the Rust toolchain lacks, and nothing it already has.

# Runs a command as root (directly when we are root, else through sudo).
as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
apt_install() {
    if [ -z "$apt_updated" ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# PostgreSQL server binaries (initdb, pg_ctl): Debian's `postgresql` package when none are found.
# Debian's package also starts a cluster on 5432; we never use it, so it is stopped again.
ensure_postgres() {
    if [ -n "${PG_BIN_DIR:-}" ] && [ -x "$PG_BIN_DIR/initdb" ]; then return; fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then return; fi
    if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then return; fi
    echo "==> installing PostgreSQL from Debian's packages"
    apt_install postgresql
    if [ -d /run/systemd/system ]; then as_root systemctl disable --now postgresql >/dev/null 2>&1 || true; fi
}

# A private virtualenv (.tools/venv) for the Python tools the project uses; rebuilt from PyPI
# when missing. Arguments: pip requirement specifiers.
ensure_python_tools() {
    if ! command -v python3 >/dev/null 2>&1; then
        echo "==> installing Python 3"
        apt_install python3 python3-venv
    fi
    local venv=.tools/venv
    if [ ! -x "$venv/bin/pip" ]; then
        rm -rf "$venv"
        if ! python3 -m venv "$venv" >/dev/null 2>&1; then
            echo "==> installing python3-venv"
            apt_install python3-venv
            python3 -m venv "$venv"
        fi
        "$venv/bin/pip" install -q --upgrade pip >/dev/null
    fi
    local missing=()
    for requirement in "$@"; do
        local name=${requirement%%[<>=\[]*}
        "$venv/bin/pip" show -q "$name" >/dev/null 2>&1 || missing+=("$requirement")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "==> installing ${missing[*]} into $venv"
        "$venv/bin/pip" install -q "${missing[@]}"
    fi
    export PATH="$PWD/$venv/bin:$PATH"
}

# A C compiler is needed by aws-lc-sys (TLS) and is part of any usable Rust install on Linux,
# but check so the failure is readable.
ensure_cc() {
    if ! command -v cc >/dev/null 2>&1; then
        echo "==> installing a C toolchain (needed by the TLS library)"
        apt_install build-essential
    fi
}

# The openssl command line, which the TLS test uses to make a CA and a server certificate.
ensure_openssl() {
    if ! command -v openssl >/dev/null 2>&1; then
        echo "==> installing openssl (the database TLS test makes its certificates with it)"
        apt_install openssl
    fi
}

# pgbouncer (Debian's package), for the test pass behind a transaction-mode pooler.
ensure_pgbouncer() {
    if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
        echo "==> installing pgbouncer from Debian's packages (the pooler test pass)"
        apt_install pgbouncer
    fi
}

# start_pgbouncer PG_PORT DIR: pgbouncer in transaction mode on a free loopback port in front of
# the PostgreSQL on PG_PORT, every database passed through, trust authentication (the test
# cluster's own rule); its files in DIR. Prints the port. pgbouncer refuses to run as root, so
# as root it runs as the postgres user, like the test cluster.
start_pgbouncer() {
    local pg_port=$1 dir=$2 port bin
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
    mkdir -p "$dir"
    printf '"postgres" ""\n' > "$dir/users.txt"
    cat > "$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$pg_port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 40
ignore_startup_parameters = extra_float_digits,options
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
    if [ "$(id -u)" -eq 0 ]; then
        chown -R postgres "$dir"
        runuser -u postgres -- "$bin" -d -q "$dir/pgbouncer.ini"
    else
        "$bin" -d -q "$dir/pgbouncer.ini"
    fi
    for _ in $(seq 1 50); do
        if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
            echo "$port"
            return 0
        fi
        sleep 0.1
    done
    echo "pgbouncer did not start; see $dir/pgbouncer.log" >&2
    return 1
}

# stop_pgbouncer DIR: stops the pgbouncer start_pgbouncer started there, if it runs.
stop_pgbouncer() {
    local pid_file="$1/pgbouncer.pid"
    if [ -f "$pid_file" ]; then
        kill "$(cat "$pid_file")" 2>/dev/null || true
    fi
}

# Headless Chromium (Debian's `chromium` package) for the test that opens the demo microsite in
# a real browser. Best effort: where it cannot be installed (no apt, no root, offline) the test
# skips and says why, so the rest of the suite still runs.
ensure_chromium() {
    if command -v chromium >/dev/null 2>&1 || [ -n "${CHROMIUM:-}" ]; then return; fi
    echo "==> installing Chromium from Debian's packages (headless browser test)"
    if ! apt_install chromium fonts-dejavu-core; then
        echo "==> could not install chromium; the headless browser test will be skipped"
    fi
}
