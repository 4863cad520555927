#!/bin/sh
# The original image's variables, written as rabbitmq.conf; other hosts may connect.
set -eu
{
  echo "loopback_users = none"
  echo "log.console = true"
  echo "log.file = false"
  [ -n "${RABBITMQ_DEFAULT_USER:-}" ] && echo "default_user = $RABBITMQ_DEFAULT_USER"
  [ -n "${RABBITMQ_DEFAULT_PASS:-}" ] && echo "default_pass = $RABBITMQ_DEFAULT_PASS"
  true
} >/etc/rabbitmq/rabbitmq.conf
chmod 600 /etc/rabbitmq/rabbitmq.conf
exec "$@"
