"""Collects check results; every check function returns a list of failure messages."""


class Report:
    def __init__(self):
        self.failures = []

    def section(self, title):
        print(title)

    def check(self, ok, message, detail=""):
        print(("  ok    " if ok else "  FAIL  ") + message + (f": {detail}" if detail and not ok else ""))
        if not ok:
            self.failures.append(message)

    def problems(self, message, problems):
        """One line for a check that yields a list of problems (empty list: passed)."""
        self.check(not problems, message, "; ".join(problems))
