// The incident's load: payments at a constant arrival rate, a share of them large enough to need
// deep scoring. Every payment has its own Idempotency-Key.
//
//   k6 run -e RATE=20 -e DURATION=60s -e DEEP_SHARE=0.2 k6/storm.js
//
// LARGE_SHARE (default 0) makes that share of the other payments large enough for the ledger's
// compliance screening: the load of the held-connection scenario.
import { check } from 'k6';
import http from 'k6/http';
import { Trend } from 'k6/metrics';
import { settings } from './lib/config.js';
import { pay, paymentBody, traceId, uuid } from './lib/payments.js';

const cfg = settings();

// Every request's duration again, tagged with the trace id the gateway returned in
// `traceresponse`: the replay uses it to find each request's trace (spans that outlived it, and
// links from the slowest requests to their traces).
const requestTraces = new Trend('request_traces', true);

export const options = {
  scenarios: {
    storm: {
      executor: 'constant-arrival-rate',
      rate: cfg.rate,
      timeUnit: '1s',
      duration: cfg.duration,
      preAllocatedVUs: cfg.preAllocatedVUs,
      maxVUs: cfg.maxVUs,
    },
  },
  thresholds: {
    // The collateral damage: payments that never needed deep scoring.
    'http_req_duration{path:fast}': [`p(99)<${cfg.fastP99Ms}`],
    http_req_failed: ['rate<0.05'],
    checks: ['rate>0.95'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'],
};

http.setResponseCallback(http.expectedStatuses(201));

export default function () {
  const deep = Math.random() < cfg.deepShare;
  const path = deep ? 'deep' : 'fast';
  const response = pay(cfg, paymentBody(cfg, deep), uuid(), { path });
  check(response, { 'payment created': (r) => r.status === 201 }, { path });
  const id = traceId(response);
  if (id) {
    requestTraces.add(response.timings.duration, { trace_id: id, path });
  }
}

export function handleSummary(data) {
  const m = data.metrics;
  const duration = m.http_req_duration ? m.http_req_duration.values : {};
  const failed = m.http_req_failed ? m.http_req_failed.values.rate : 0;
  const text =
    `storm: ${m.http_reqs ? m.http_reqs.values.count : 0} requests, ` +
    `p50 ${Math.round(duration.med || 0)} ms, p99 ${Math.round(duration['p(99)'] || 0)} ms, ` +
    `failed ${(failed * 100).toFixed(1)} %\n`;
  return { [cfg.summaryPath]: JSON.stringify(data, null, 2), stdout: text };
}
