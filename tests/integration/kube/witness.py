#!/usr/bin/env python3
"""A second real client (Debian's python3-kubernetes) reads what the agent wrote.
Usage: witness.py KUBECONFIG NODE -> one JSON object: conditions, taints, events (reason: count)."""
import json
import sys

from kubernetes import client, config


def main():
    kubeconfig, node = sys.argv[1], sys.argv[2]
    config.load_kube_config(config_file=kubeconfig)
    v1 = client.CoreV1Api()
    n = v1.read_node(node)
    events = v1.list_namespaced_event(
        "default", field_selector=f"involvedObject.kind=Node,involvedObject.name={node}")
    out = {
        "conditions": {c.type: {"status": c.status, "reason": c.reason, "message": c.message,
                                "lastTransitionTime": c.last_transition_time.isoformat()
                                if c.last_transition_time else None}
                       for c in n.status.conditions or []},
        "taints": [{"key": t.key, "effect": t.effect} for t in n.spec.taints or []],
        "events": {},
    }
    for e in events.items:
        key = e.reason
        out["events"][key] = out["events"].get(key, 0) + (e.count or 1)
        if e.source.component != "nodeguard":
            raise SystemExit(f"event {e.metadata.name}: source.component {e.source.component}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
