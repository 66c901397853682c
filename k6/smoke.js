// A handful of payments end to end, with checks: authorized, idempotent replay, lookup,
// and the auth and idempotency rules. Fails (exit 99) if any check fails.
//
//   k6 run k6/smoke.js        (BASE_URL defaults to http://127.0.0.1:8080)
import { check, group } from 'k6';
import { settings } from './lib/config.js';
import { getPayment, pay, paymentBody, traceId, uuid } from './lib/payments.js';

const cfg = settings();

export const options = {
  vus: 1,
  iterations: 1,
  thresholds: { checks: ['rate==1.0'] },
};

export default function () {
  group('authorized payment', () => {
    const key = uuid();
    const body = paymentBody(cfg, false);
    const created = pay(cfg, body, key);
    check(created, {
      'created (201)': (r) => r.status === 201,
      'authorized': (r) => r.json('status') === 'authorized',
      'trace id returned': (r) => traceId(r) !== undefined,
      'card number not echoed': (r) => !r.body.includes('4242424242424242'),
    });
    const replay = pay(cfg, body, key);
    check(replay, {
      'replay returns the same payment': (r) => r.status === 201 && r.json('id') === created.json('id'),
      'replay is marked': (r) => r.headers['Idempotent-Replayed'] === 'true',
    });
    check(getPayment(cfg, created.json('id')), {
      'payment can be read back': (r) => r.status === 200 && r.json('id') === created.json('id'),
    });
  });

  group('rules', () => {
    const body = paymentBody(cfg, false);
    check(pay(Object.assign({}, cfg, { apiKey: 'sk_test_wrong' }), body, uuid()), {
      'wrong API key is 401': (r) => r.status === 401 && r.json('error.code') === 'unauthorized',
    });
    check(pay(cfg, Object.assign({}, body, { amount: -5 }), uuid()), {
      'negative amount is 422': (r) => r.status === 422,
    });
    const key = uuid();
    pay(cfg, body, key);
    check(pay(cfg, Object.assign({}, body, { amount: body.amount + 1 }), key), {
      'key reused with another body is 422': (r) => r.status === 422,
    });
  });
}
