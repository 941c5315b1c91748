"""results.py - how every benchmark writes its results file: the numbers
with the date and the machine, in bench/results/KIND-DATE.json."""
import json
import os
import statistics
import time


def stats(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def save(kind, numbers):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
    result = {"date": time.strftime("%Y-%m-%d"), "machine": {"cores": os.cpu_count(), "cpu": cpu}, **numbers}
    os.makedirs("bench/results", exist_ok=True)
    path = f"bench/results/{kind}-{result['date']}.json"
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"written to {path}")
    return result
