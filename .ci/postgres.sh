# Sourced by .ci/run: a throwaway PostgreSQL on 127.0.0.1 for the warehouse and instance tests.
# Installs Debian's postgresql when missing; runs the server as an unprivileged user.
# Exports UDS_TEST_POSTGRES_URL on success; on failure says why and leaves it unset.
start_test_postgres() {
    local bindir
    bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$bindir" ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "CI: installing Debian postgresql"
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
            || echo "CI: apt-get install postgresql failed"
        bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    fi
    if [ -z "$bindir" ]; then
        echo "CI: no PostgreSQL server available; PostgreSQL tests will be skipped"
        return 0
    fi
    local pguser=postgres runas=()
    if [ "$(id -u)" = 0 ]; then
        id -u "$pguser" >/dev/null 2>&1 || useradd --system --no-create-home "$pguser"
        runas=(runuser -u "$pguser" --)
    else
        pguser=$(id -un)
    fi
    PG_DIR=$(mktemp -d /tmp/uds-ci-pg.XXXXXX)
    chown "$pguser" "$PG_DIR" 2>/dev/null || true
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "${runas[@]}" "$bindir/initdb" -D "$PG_DIR/data" -U uds --auth=trust >/dev/null
    "${runas[@]}" "$bindir/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
        -o "-h 127.0.0.1 -p $port -k $PG_DIR" start >/dev/null
    "${runas[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U uds uds_test
    export UDS_TEST_POSTGRES_URL="postgresql+psycopg2://uds@127.0.0.1:$port/uds_test"
    export UDS_CI_PG_STOP="${runas[*]} $bindir/pg_ctl -D $PG_DIR/data -m fast stop"
    echo "CI: PostgreSQL running on 127.0.0.1:$port"
}
