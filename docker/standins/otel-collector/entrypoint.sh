#!/bin/sh
# compose.yaml passes the collector's --config: a relay has nothing to configure.
exec socat TCP-LISTEN:4317,fork,reuseaddr TCP:"${RELAY_TO:-jaeger:4317}"
