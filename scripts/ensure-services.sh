#!/usr/bin/env bash
# Starts the local RabbitMQ and PostgreSQL when they are installed but down, and waits for them.
# Where they are not installed, tests find a broker from MAILPIPE_TEST_AMQP_URL or
# testcontainers, and fail with a message saying how to provide one.
set -u

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Whether the broker on :5672 answers the AMQP 0-9-1 protocol header with a frame.
amqp_answers() {
  python3 - <<'PY' 2>/dev/null
import socket, sys
try:
    with socket.create_connection(("127.0.0.1", 5672), timeout=5) as s:
        s.settimeout(5)
        s.sendall(b"AMQP\x00\x00\x09\x01")
        sys.exit(0 if s.recv(1) == b"\x01" else 1)
except OSError:
    sys.exit(1)
PY
}

wait_port() {
  local name=$1 port=$2 i
  for i in $(seq 1 90); do
    port_open "$port" && { echo "ensure-services: $name is up on :$port"; return 0; }
    sleep 1
  done
  echo "ensure-services: $name did not come up on :$port" >&2
  return 1
}

if [ -z "${MAILPIPE_TEST_AMQP_URL:-}" ]; then
  if ! port_open 5672 && command -v rabbitmq-server >/dev/null 2>&1; then
    echo "ensure-services: starting RabbitMQ"
    rabbitmq-server -detached >/dev/null 2>&1 || true
  fi
  if command -v rabbitmq-server >/dev/null 2>&1; then wait_port RabbitMQ 5672 || exit 1; fi
  # The port opens before the broker accepts AMQP: wait until it answers a ping.
  if command -v rabbitmq-diagnostics >/dev/null 2>&1; then
    for i in $(seq 1 60); do
      rabbitmq-diagnostics -q ping >/dev/null 2>&1 && break
      sleep 1
    done
  fi
  # A broker out of file descriptors (or otherwise stuck) still opens the port but never
  # answers the AMQP greeting, and every test then times out connecting: say so, restart it
  # where we may, and show its state.
  if command -v rabbitmqctl >/dev/null 2>&1 && ! amqp_answers; then
    echo "ensure-services: RabbitMQ opens :5672 but does not answer AMQP; restarting it" >&2
    rabbitmqctl status 2>&1 | grep -A2 -E "File Descriptors|Alarms" >&2 || true
    rabbitmqctl stop >/dev/null 2>&1 || true
    rabbitmq-server -detached >/dev/null 2>&1 || true
    wait_port RabbitMQ 5672 || exit 1
    for i in $(seq 1 60); do amqp_answers && break; sleep 1; done
    amqp_answers || { echo "ensure-services: RabbitMQ does not answer AMQP" >&2; exit 1; }
  fi
fi

if [ -z "${MAILPIPE_TEST_DATABASE_URL:-}" ]; then
  if ! port_open 5432 && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "ensure-services: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  if command -v pg_ctlcluster >/dev/null 2>&1; then wait_port PostgreSQL 5432 || exit 1; fi
fi
exit 0
