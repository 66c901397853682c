// The cost-of-looking benchmark's load (`leakstorm bench`): fast-path payments only (no deep
// scoring), either at a constant arrival rate (latency at a fixed load) or from a fixed pool of
// VUs that send back to back (throughput at saturation).
//
//   k6 run -e SCENARIO=rate -e RATE=200 -e DURATION=20s k6/bench.js
//   k6 run -e SCENARIO=saturate -e VUS=32 -e DURATION=20s k6/bench.js
import { check } from 'k6';
import http from 'k6/http';
import { settings } from './lib/config.js';
import { pay, paymentBody, uuid } from './lib/payments.js';

const cfg = settings();
const scenario = __ENV.SCENARIO || 'rate';
const vus = parseInt(__ENV.VUS || '32', 10);

export const options = {
  scenarios: {
    bench:
      scenario === 'saturate'
        ? { executor: 'constant-vus', vus, duration: cfg.duration }
        : {
            executor: 'constant-arrival-rate',
            rate: cfg.rate,
            timeUnit: '1s',
            duration: cfg.duration,
            preAllocatedVUs: Math.max(20, Math.ceil(cfg.rate / 4)),
            maxVUs: Math.max(100, cfg.rate),
          },
  },
  summaryTrendStats: ['med', 'p(99)', 'max', 'count'],
};

http.setResponseCallback(http.expectedStatuses(201));

export default function () {
  const response = pay(cfg, paymentBody(cfg, false), uuid(), { path: 'fast' });
  check(response, { 'payment created': (r) => r.status === 201 });
}

export function handleSummary(data) {
  return { [cfg.summaryPath]: JSON.stringify(data, null, 2) };
}
