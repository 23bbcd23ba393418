# Sourced by .ci/run (and usable by hand as root): make sure a local PostgreSQL is installed and
# running, with a role and database for the store's tests, and export STPSIM_TEST_POSTGRES_URL.
# Without root and apt it does nothing, and the PostgreSQL tests are skipped (except on CI).
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "postgres.sh: installing Debian's postgresql..." >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 \
      || echo "postgres.sh: could not install postgresql" >&2
  fi
  if ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    version="$(ls /usr/lib/postgresql | sort -V | tail -1)"
    if ! pg_lsclusters 2>/dev/null | grep -q "^$version *main"; then
      pg_createcluster "$version" main >/dev/null 2>&1 || true
    fi
    pg_ctlcluster "$version" main start >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do
      su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
      sleep 1
    done
    su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='stpsim'\"" | grep -q 1 \
      || su postgres -c "psql -qc \"create role stpsim login password 'stpsim' createdb\""
    # A test drops its database WITH (FORCE), which ends the sessions still on it; an autovacuum
    # worker there belongs to no role, and only pg_signal_backend may end it.
    su postgres -c "psql -qc 'grant pg_signal_backend to stpsim'" >/dev/null 2>&1 || true
    su postgres -c "psql -qtAc \"select 1 from pg_database where datname='stpsim_test'\"" | grep -q 1 \
      || su postgres -c "createdb -O stpsim stpsim_test"
    export STPSIM_TEST_POSTGRES_URL="postgresql+psycopg://stpsim:stpsim@127.0.0.1/stpsim_test"
  fi
fi
