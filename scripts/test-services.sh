# Sourced by `make test`: makes sure PostgreSQL and Redis answer, starting them where they do not,
# and exports TEST_DATABASE_URL / TEST_REDIS_URL for the tests. Never stops a running server.
#
# PostgreSQL: TEST_DATABASE_URL if set; else the machine's server on 127.0.0.1:5432 as `postgres`
# with trust auth (started with pg_ctlcluster if it is down); else a private trust-auth cluster in
# target/test-pg on port 55432, for machines whose server asks for passwords.

_pg_ok() { psql "$1" -XAtqc 'select 1' >/dev/null 2>&1; }

if [[ -z "${TEST_DATABASE_URL:-}" ]]; then
    _shared="postgres://postgres@127.0.0.1:5432/postgres"
    if ! _pg_ok "$_shared" && command -v pg_lsclusters >/dev/null 2>&1; then
        while read -r ver name port status _; do
            if [[ "$port" == 5432 && "$status" != online ]]; then
                echo "test-services: starting PostgreSQL cluster $ver/$name"
                pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start || true
            fi
        done < <(pg_lsclusters --no-header 2>/dev/null)
        for _ in $(seq 1 30); do _pg_ok "$_shared" && break; sleep 0.5; done
    fi
    if _pg_ok "$_shared"; then
        export TEST_DATABASE_URL="$_shared"
    else
        _bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
        _dir="$PWD/target/test-pg"
        _private="postgres://postgres@127.0.0.1:55432/postgres"
        if ! _pg_ok "$_private"; then
            echo "test-services: starting a private PostgreSQL for tests in $_dir (port 55432)"
            mkdir -p "$_dir"
            _as=()
            if [[ $(id -u) -eq 0 ]]; then chown postgres: "$_dir"; _as=(runuser -u postgres --); fi
            [[ -f "$_dir/data/PG_VERSION" ]] || "${_as[@]}" "$_bin/initdb" -D "$_dir/data" -U postgres --auth=trust >/dev/null
            "${_as[@]}" "$_bin/pg_ctl" start -w -D "$_dir/data" -l "$_dir/log" \
                -o "-c listen_addresses=127.0.0.1 -c port=55432 -c unix_socket_directories='' -c max_connections=300 -c fsync=off"
        fi
        export TEST_DATABASE_URL="$_private"
    fi
fi

if [[ -z "${TEST_REDIS_URL:-}" ]]; then
    if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        echo "test-services: starting Redis on 127.0.0.1:6379"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
        for _ in $(seq 1 20); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.25; done
    fi
    export TEST_REDIS_URL="redis://127.0.0.1:6379"
fi
echo "test-services: PostgreSQL ${TEST_DATABASE_URL}, Redis ${TEST_REDIS_URL}"
