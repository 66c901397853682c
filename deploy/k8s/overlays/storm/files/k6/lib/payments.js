// Building and sending payments through the gateway's public API.
import http from 'k6/http';

// The Stripe-style test card: passes the Luhn check, never a real card.
const TEST_CARD = { number: '4242424242424242', exp_month: 12, exp_year: 2099, cvc: '123' };

export function uuid() {
  return crypto.randomUUID();
}

/**
 * A payment body. `deep` payments are large enough to need deep scoring in risk; of the others,
 * a `largeShare` are large enough (200.00–499.99) for the ledger's compliance screening (the
 * held-connection scenario), the rest small (1.00–189.99).
 */
export function paymentBody(cfg, deep) {
  const large = !deep && Math.random() < (cfg.largeShare || 0);
  const amount = deep
    ? cfg.deepAmount
    : large
      ? 20000 + Math.floor(Math.random() * 30000)
      : 100 + Math.floor(Math.random() * 18900);
  return {
    amount,
    currency: 'EUR',
    merchant_id: cfg.merchantId,
    customer_id: `cus_${Math.floor(Math.random() * 100000)}`,
    payment_method: { type: 'card', card: TEST_CARD },
  };
}

export function pay(cfg, body, idempotencyKey, tags) {
  return http.post(`${cfg.baseUrl}/v1/payments`, JSON.stringify(body), {
    headers: {
      Authorization: `Bearer ${cfg.apiKey}`,
      'Idempotency-Key': idempotencyKey,
      'Content-Type': 'application/json',
    },
    tags: Object.assign({ name: 'POST /v1/payments' }, tags || {}),
    timeout: cfg.clientTimeout,
  });
}

export function getPayment(cfg, id) {
  return http.get(`${cfg.baseUrl}/v1/payments/${id}`, {
    headers: { Authorization: `Bearer ${cfg.apiKey}` },
    tags: { name: 'GET /v1/payments/{id}' },
    timeout: cfg.clientTimeout,
  });
}

/** The trace id from the W3C `traceresponse` header, if any. */
export function traceId(response) {
  const header = response.headers['Traceresponse'];
  return header ? header.split('-')[1] : undefined;
}
