#!/usr/bin/env bash
# Start the local services the tests talk to, where they are not already running, and prepare them:
#   Redis on 127.0.0.1:6379, persisting nothing;
#   PostgreSQL on 127.0.0.1:5432 with the tests' own role and database, both named crowdmap_test
#   (password crowdmap_test; the role may log in and create databases, nothing more).
# scripts/install.sh --dev installs both servers; creating the role needs root (or run the command
# it prints as the postgres user). Without Redis it fails; a PostgreSQL it cannot prepare is only
# named, and the tests marked postgres then fail saying so.
set -uo pipefail

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    if ! command -v redis-server >/dev/null; then
        [[ $(id -u) -eq 0 ]] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    fi
    mkdir -p /tmp/crowdmap-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir /tmp/crowdmap-redis --logfile /tmp/crowdmap-redis/redis.log
    for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "services.sh: Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }

command -v pg_ctlcluster >/dev/null || { echo "services.sh: PostgreSQL is not installed (scripts/install.sh --dev)" >&2; exit 0; }
if ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
    version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
    [[ -n "$version" ]] && pg_ctlcluster --skip-systemctl-redirect "$version" main start
    for _ in $(seq 50); do pg_isready -h 127.0.0.1 -q && break; sleep 0.1; done
fi
pg_isready -h 127.0.0.1 -q || { echo "services.sh: PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 0; }

role=crowdmap_test
if ! PGPASSWORD=$role psql -h 127.0.0.1 -U $role -d $role -qAtc 'SELECT 1' >/dev/null 2>&1; then
    create_role="DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
        CREATE ROLE $role LOGIN CREATEDB PASSWORD '$role'; END IF; END \$\$"
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -c "$create_role" >/dev/null
        runuser -u postgres -- psql -qAtc "SELECT 1 FROM pg_database WHERE datname = '$role'" | grep -q 1 \
            || runuser -u postgres -- createdb -O $role $role
    fi
    if ! PGPASSWORD=$role psql -h 127.0.0.1 -U $role -d $role -qAtc 'SELECT 1' >/dev/null 2>&1; then
        echo "services.sh: the tests' PostgreSQL role is missing; as the postgres user run:" >&2
        echo "  psql -c \"CREATE ROLE $role LOGIN CREATEDB PASSWORD '$role'\" && createdb -O $role $role" >&2
    fi
fi
exit 0
