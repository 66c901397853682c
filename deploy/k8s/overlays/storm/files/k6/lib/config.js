// Settings shared by the scripts, all from the environment (k6 run -e NAME=value, or env vars).

function int(value, fallback) {
  const n = parseInt(value, 10);
  return Number.isFinite(n) ? n : fallback;
}

function float(value, fallback) {
  const n = parseFloat(value);
  return Number.isFinite(n) ? n : fallback;
}

export function settings() {
  const env = __ENV;
  const rate = int(env.RATE, 20);
  return {
    baseUrl: (env.BASE_URL || 'http://127.0.0.1:8080').replace(/\/$/, ''),
    // Local demo credential (override with API_KEY); not a secret.
    apiKey: env.API_KEY || 'sk_test_leakstorm_demo',
    merchantId: env.MERCHANT_ID || 'merchant_demo',
    rate,
    duration: env.DURATION || '60s',
    // Share of payments large enough to need deep scoring in risk.
    deepShare: float(env.DEEP_SHARE, 0.2),
    deepAmount: int(env.DEEP_AMOUNT, 75000),
    // Share of the other payments large enough for the ledger's compliance screening.
    largeShare: float(env.LARGE_SHARE, 0),
    // Longer than the gateway's own 10 s deadline, so every request gets an answer (504 at worst).
    clientTimeout: env.CLIENT_TIMEOUT || '15s',
    // Enough VUs for `rate` requests a second that each take up to the gateway's 10 s deadline,
    // allocated up front: starting VUs mid-storm on a busy machine is too slow and drops requests.
    preAllocatedVUs: int(env.PRE_ALLOCATED_VUS, Math.max(10, rate * 11)),
    maxVUs: int(env.MAX_VUS, Math.max(50, rate * 16)),
    fastP99Ms: int(env.FAST_P99_MS, 1000),
    summaryPath: env.SUMMARY_PATH || 'k6-summary.json',
  };
}
