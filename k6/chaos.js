// Payments with client retries while services are being killed: every payment keeps its
// Idempotency-Key across retries, so a retry can never pay twice.
//
//   k6 run -e RATE=10 -e DURATION=60s k6/chaos.js
import { check, sleep } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { settings } from './lib/config.js';
import { pay, paymentBody, uuid } from './lib/payments.js';

const cfg = settings();
const attempts = parseInt(__ENV.ATTEMPTS || '12', 10);
const backoffSeconds = parseFloat(__ENV.RETRY_BACKOFF_S || '2');

const retries = new Counter('payment_retries');
const settled = new Counter('payments_settled');
const givenUp = new Counter('payments_given_up');

export const options = {
  scenarios: {
    chaos: {
      executor: 'constant-arrival-rate',
      rate: cfg.rate,
      timeUnit: '1s',
      duration: cfg.duration,
      preAllocatedVUs: cfg.rate * 4,
      // A payment may retry for ~25 s while a service restarts and recovery settles it.
      maxVUs: cfg.rate * 40,
    },
  },
  thresholds: { payments_given_up: ['count==0'] },
};

// Failures are expected here (that is the point); retries handle them.
http.setResponseCallback(http.expectedStatuses(201, 202));

/** Worth retrying with the same key: no answer, still in progress, or the fleet is restarting. */
function retryable(status) {
  return status === 0 || status === 409 || status >= 500;
}

export default function () {
  const key = uuid();
  const body = paymentBody(cfg, Math.random() < cfg.deepShare);
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) {
      retries.add(1);
      sleep(backoffSeconds);
    }
    const response = pay(cfg, body, key, { attempt: attempt === 0 ? 'first' : 'retry' });
    if (!retryable(response.status)) {
      check(response, { 'payment answered': (r) => r.status === 201 || r.status === 202 });
      settled.add(1);
      return;
    }
  }
  givenUp.add(1);
}

export function handleSummary(data) {
  const count = (name) => (data.metrics[name] ? data.metrics[name].values.count : 0);
  const text = `chaos: ${count('iterations')} payments, ${count('payment_retries')} retries, ` +
    `${count('payments_given_up')} given up\n`;
  return { [cfg.summaryPath]: JSON.stringify(data, null, 2), stdout: text };
}
