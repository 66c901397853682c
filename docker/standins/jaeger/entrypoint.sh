#!/bin/sh
# compose.yaml passes Jaeger's own flags (--config ...): the trace store has no use for them.
exec /usr/local/bin/leakstorm trace-store --otlp-addr 0.0.0.0:4317 --ui-addr 0.0.0.0:16686 \
  --max-traces "${TRACE_STORE_MAX_TRACES:-100000}"
