#!/usr/bin/env bash
# Makes sure the database servers the integration tests use are running:
# PostgreSQL (127.0.0.1:5432), MariaDB (127.0.0.1:3306) and Redis
# (127.0.0.1:6379). Starts any that is down (installing it from Debian's
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

rc=0
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
exit $rc
