#!/bin/sh
# Debian's build stores data in /var/lib/prometheus/metrics2 by default; upstream's in `data/`
# under the working directory (/prometheus, the volume). compose.yaml's command sets no path, so
# the upstream default is restored here unless one is given.
case " $* " in
  *" --storage.tsdb.path"*) exec /usr/bin/prometheus "$@" ;;
  *) exec /usr/bin/prometheus --storage.tsdb.path=data/ "$@" ;;
esac
