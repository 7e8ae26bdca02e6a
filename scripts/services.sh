#!/usr/bin/env bash
# Makes sure the database servers the integration tests use are running:
# PostgreSQL (127.0.0.1:5432), MariaDB (127.0.0.1:3306) and Redis
# (127.0.0.1:6379), and that the OpenSSH and openssl binaries are there. Starts any that is down (installing it from Debian's
# packages if it is missing and we are root), then waits until each
# accepts connections. Exits non-zero if one cannot be brought up.
set -uo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_up() { # name port
  for _ in $(seq 1 150); do
    up "$2" && { echo "   $1 is up on 127.0.0.1:$2"; return 0; }
    sleep 0.2
  done
  echo "   $1 did not come up on 127.0.0.1:$2" >&2
  return 1
}

install_if_missing() { # binary package
  command -v "$1" >/dev/null 2>&1 || [ -x "$1" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "   installing $2"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null
  fi
}

start_postgres() {
  install_if_missing pg_ctlcluster postgresql
  local ver
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  [ -n "$ver" ] || { echo "   no PostgreSQL cluster in /etc/postgresql" >&2; return 1; }
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start
}

start_mariadb() {
  install_if_missing /usr/sbin/mariadbd mariadb-server
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
}

start_redis() {
  install_if_missing redis-server redis-server
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

# PostgreSQL trusts every local connection here, so a wrong password
# would still log in. Tests that must see a password refused (rotation
# clients) connect to the database kinko_auth, for which scram-sha-256 is
# required from 127.0.0.1 (other databases are left as they are).
AUTH_DB=kinko_auth
postgres_password_db() {
  local hba
  hba=$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW hba_file' 2>/dev/null) || return 1
  if ! grep -q "^host[[:space:]]\+$AUTH_DB[[:space:]]" "$hba" 2>/dev/null; then
    [ -w "$hba" ] || { echo "   cannot edit $hba to require passwords on $AUTH_DB" >&2; return 1; }
    sed -i "1i host $AUTH_DB all 127.0.0.1/32 scram-sha-256" "$hba"
    psql -h 127.0.0.1 -U postgres -qAtc 'SELECT pg_reload_conf()' >/dev/null || return 1
  fi
  if [ "$(psql -h 127.0.0.1 -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname='$AUTH_DB'")" != 1 ]; then
    psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $AUTH_DB" || return 1
  fi
  echo "   PostgreSQL requires passwords on database $AUTH_DB"
}

rc=0
# Tools the tests drive as real peers: OpenSSH's sshd and ssh (SSH
# certificates) and openssl (PKI chains).
for tool in "/usr/sbin/sshd openssh-server" "ssh openssh-client" "openssl openssl"; do
  set -- $tool
  install_if_missing "$1" "$2"
  if command -v "$1" >/dev/null 2>&1 || [ -x "$1" ]; then
    echo "   $1 is installed"
  else
    echo "   $1 is missing (install $2)" >&2
    rc=1
  fi
done
for svc in "postgres 5432 PostgreSQL" "mariadb 3306 MariaDB" "redis 6379 Redis"; do
  set -- $svc
  if up "$2"; then
    echo "   $3 is up on 127.0.0.1:$2"
    continue
  fi
  echo "   starting $3"
  "start_$1" || true
  wait_up "$3" "$2" || rc=1
done
if up 5432; then
  postgres_password_db || rc=1
fi
exit $rc
