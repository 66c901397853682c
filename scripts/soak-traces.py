#!/usr/bin/env python3
"""Soak benchmark for the native trace store (issue 8): a steady payment storm through the native
release fleet, then checks that Jaeger still works as a user opens it.

  make soak-traces            # 25,000 payments at 200/s (DEEP_SHARE=0), release build

Starts `leakstorm up --risk-mode fixed`, runs k6/storm.js, then pays once more and asks the
trace API for that fresh payment's trace (spans of all four services expected), lists the
services, and reads the store's own figures. Prints and writes reports/soak-traces.json; exits
non-zero when a check fails. Measures the leakstorm process (the trace store and the
supervisor): RSS peak and CPU seconds. A benchmark, not a test: figures depend on the machine.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

API_KEY = "sk_test_leakstorm_demo"
SERVICES = ["gateway", "ledger", "payments", "risk"]


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def pay_once(gateway):
    body = json.dumps({
        "amount": 1234, "currency": "EUR", "merchant_id": "merchant_demo", "customer_id": "cus_soak",
        "payment_method": {"type": "card", "card": {
            "number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}},
    }).encode()
    request = urllib.request.Request(f"{gateway}/v1/payments", data=body, method="POST", headers={
        "Authorization": f"Bearer {API_KEY}", "Idempotency-Key": str(uuid.uuid4()),
        "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return r.status, r.headers["traceresponse"].split("-")[1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--leakstorm", default="target/release/leakstorm")
    p.add_argument("--payments", type=int, default=25_000)
    p.add_argument("--rate", type=int, default=200)
    p.add_argument("--min-traces-kept", type=int, default=5_000)
    p.add_argument("--out", default="reports/soak-traces.json")
    args = p.parse_args()
    jaeger, gateway = "http://127.0.0.1:16686", "http://127.0.0.1:8080"

    fleet = subprocess.Popen([args.leakstorm, "up", "--risk-mode", "fixed", "--run-dir", ".leakstorm/soak"],
                             stdout=subprocess.PIPE, text=True)
    for line in fleet.stdout:
        if "fleet is up" in line:
            break
    else:
        sys.exit("soak: the fleet did not start")
    threading.Thread(target=lambda: [None for _ in fleet.stdout], daemon=True).start()
    results, checks = {}, {}
    try:
        cpu_start, rss_peak = proc_cpu_seconds(fleet.pid), proc_rss_bytes(fleet.pid)
        done = threading.Event()

        def watch_rss():
            nonlocal rss_peak
            while not done.wait(1):
                rss_peak = max(rss_peak, proc_rss_bytes(fleet.pid))
        threading.Thread(target=watch_rss, daemon=True).start()

        seconds = args.payments // args.rate
        started = time.monotonic()
        k6 = subprocess.run(["k6", "run", "--quiet", "-e", f"RATE={args.rate}", "-e", f"DURATION={seconds}s",
                             "-e", "DEEP_SHARE=0", "-e", "SUMMARY_PATH=/dev/null", "k6/storm.js"])
        results["storm_seconds"] = round(time.monotonic() - started, 1)
        results["k6_exit"] = k6.returncode
        time.sleep(2)  # the services' batch exporters send every 500 ms
        done.set()
        results["store_cpu_seconds"] = round(proc_cpu_seconds(fleet.pid) - cpu_start, 2)
        results["store_cpu_ms_per_1000_payments"] = round(
            results["store_cpu_seconds"] * 1000 / (args.payments / 1000), 1)
        results["store_rss_peak_mib"] = round(rss_peak / 2**20, 1)

        status, trace_id = pay_once(gateway)
        results["fresh_payment"] = {"status": status, "trace_id": trace_id}
        services_in_trace = []
        for _ in range(40):
            time.sleep(0.5)
            try:
                trace = get_json(f"{jaeger}/api/traces/{trace_id}")["data"][0]
            except Exception:
                continue
            services_in_trace = sorted({p["serviceName"] for p in trace["processes"].values()})
            if services_in_trace == SERVICES:
                break
        results["fresh_trace_services"] = services_in_trace
        results["services_listed"] = get_json(f"{jaeger}/api/services")["data"]
        results["store"] = get_json(f"{jaeger}/leakstorm/store")
        results["store_rss_end_mib"] = round(proc_rss_bytes(fleet.pid) / 2**20, 1)
        checks["fresh trace has spans of all four services"] = services_in_trace == SERVICES
        checks["every service listed"] = sorted(results["services_listed"]) == SERVICES
        checks[f"at least {args.min_traces_kept} traces kept"] = results["store"]["traces"] >= args.min_traces_kept
    finally:
        fleet.send_signal(signal.SIGTERM)
        fleet.wait(timeout=60)
    results["checks"] = checks
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))
    failed = [name for name, ok in checks.items() if not ok]
    if failed:
        sys.exit(f"soak: failed: {', '.join(failed)}")
    print("soak: all checks passed")


if __name__ == "__main__":
    main()
