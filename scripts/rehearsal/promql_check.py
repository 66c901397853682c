"""Every Grafana panel's and every alert's PromQL, run against the rehearsal's real Prometheus
while the leak scenario each is meant for runs: a query that never returns data while its
scenario leaks is a panel that would stay empty (or an alert that could not fire) in an incident.

Which scenario a query belongs to: an alert's `scenario` label; a panel's title prefix
(`unbounded-queue: ...`); everything else is the default incident's, detached-spawn. Recording
rules are left to the alerts that read them.
"""
import json
import pathlib
import subprocess
import urllib.parse

import yaml

from kit import Sampler, get_json

ROOT = pathlib.Path(__file__).resolve().parents[2]

def scenarios():
    """The scenario names, from the CLI's catalog (the one list; `make test` built the CLI)."""
    out = subprocess.run(["target/debug/leakstorm", "scenario", "--catalog"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return {entry["scenario"] for entry in json.loads(out)}


def expressions():
    """(scenario, source, expr) for every panel target on Prometheus and every rule."""
    found, names = [], scenarios()
    dashboard = json.loads((ROOT / "grafana/provisioning/dashboards/incident.json").read_text())
    for panel in dashboard["panels"]:
        if (panel.get("datasource") or {}).get("type") != "prometheus":
            continue
        title = panel.get("title", "")
        prefix = title.split(":", 1)[0]
        scenario = prefix if prefix in names else "detached-spawn"
        for target in panel.get("targets", []):
            if target.get("expr"):
                found.append((scenario, f"panel '{title}'", target["expr"]))
    rules = yaml.safe_load((ROOT / "prometheus/alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            # Recording rules are checked through the alerts that read them: one of them
            # (`...:orphaned`) has data only while loops are orphaned, by design.
            if "alert" not in rule:
                continue
            # A cause alert names its scenario; the symptom (heap) fires in the detached spawn's.
            scenario = (rule.get("labels") or {}).get("scenario", "detached-spawn")
            found.append((scenario, f"alert {rule['alert']}", rule["expr"]))
    return found


class PromqlWatch(Sampler):
    """Queries one scenario's expressions every few seconds in the background and remembers
    which have returned data."""

    period = 5

    def __init__(self, prometheus, scenario):
        super().__init__()
        self.url = prometheus
        self.pending = {(source, expr) for s, source, expr in expressions() if s == scenario}
        self.seen = set()

    def all_seen(self):
        return not (self.pending - self.seen)

    def missing(self):
        return sorted(source for source, _ in self.pending - self.seen)

    def sample(self):
        for source, expr in sorted(self.pending - self.seen):
            try:
                query = urllib.parse.urlencode({"query": expr})
                result = get_json(f"{self.url}/api/v1/query?{query}")["data"]["result"]
                if result:
                    self.seen.add((source, expr))
            except Exception:  # Prometheus busy or restarting: the next round asks again
                pass
