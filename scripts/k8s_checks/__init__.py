"""Offline checks of deploy/k8s (run by scripts/check_k8s.py, `make check-k8s`)."""
