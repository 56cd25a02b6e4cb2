#!/usr/bin/python3
"""The shipped DaemonSet's pod template as a Pod that `podman kube play` (4.3) runs on one node.

Reads the rendering of a kustomization (`kubectl kustomize DIR`) on stdin and writes two files:
the Pod and the ConfigMaps it mounts (for `podman kube play --configmap`). Only what a test on a
shared machine must change is changed, and each change is listed on stderr:
  - the image: the one this run built;
  - every hostPath: moved under NODE_ROOT (the throwaway node root), since the real path would be
    the machine's own;
  - the pod's name, and its volume and ConfigMap names (podman keeps them as named volumes of
    the machine): unique per run;
  - container `ports`: podman refuses them with host networking (the port is the node's anyway;
    the probes' named ports are resolved by the test from the same rendering);
  - what the kubelet does and podman 4.3 does not: spec.nodeName in env, $(VAR) in args.
Capabilities, read-only root, user, seccomp, mounts and their propagation, probes, env, args,
resources and the grace period stay as shipped.

  pod_from_daemonset.py --image IMG --node-root DIR --name NAME --pod OUT --configmaps OUT
"""
import argparse
import copy
import re
import sys

import yaml


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--image", required=True)
    ap.add_argument("--node-root", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--node-name", required=True)
    ap.add_argument("--pod", required=True)
    ap.add_argument("--configmaps", required=True)
    ap.add_argument("--unique", default="", help="prefix for volume and ConfigMap names")
    # Not for the shipped pod: variants the test runs on purpose.
    ap.add_argument("--drop-volume", action="append", default=[],
                    help="remove this volume and its mounts (a pod that lacks a mount)")
    ap.add_argument("--selinux-type", default="", help="securityContext.seLinuxOptions.type")
    a = ap.parse_args()

    docs = [d for d in yaml.safe_load_all(sys.stdin) if d]
    ds = [d for d in docs if d.get("kind") == "DaemonSet"]
    if len(ds) != 1:
        sys.exit(f"pod_from_daemonset: expected one DaemonSet, found {len(ds)}")
    tmpl = copy.deepcopy(ds[0]["spec"]["template"])
    spec = tmpl["spec"]
    changes = []

    for c in spec["containers"] + spec.get("initContainers", []):
        changes.append(f"{c['name']}: image {c['image']} -> {a.image}")
        c["image"] = a.image
        c["imagePullPolicy"] = "Never"
        if spec.get("hostNetwork") and c.pop("ports", None):
            changes.append(f"{c['name']}: ports dropped (podman refuses them with hostNetwork)")
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
            if ref == "spec.nodeName":
                # The kubelet fills it in; podman 4.3 knows no node.
                del e["valueFrom"]
                e["value"] = a.node_name
                changes.append(f"{c['name']}: env {e['name']} = {a.node_name} (spec.nodeName)")
        # The kubelet expands $(VAR) in command and args from the container's env; podman 4.3
        # passes it on as it is.
        env = {e["name"]: e["value"] for e in c.get("env", []) if "value" in e}
        for key in ("command", "args"):
            if key in c:
                before = list(c[key])
                c[key] = [re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                                 lambda m: env.get(m.group(1), m.group(0)), x) for x in c[key]]
                if c[key] != before:
                    changes.append(f"{c['name']}: $(VAR) in {key} expanded as the kubelet does")

    for name in a.drop_volume:
        spec["volumes"] = [v for v in spec.get("volumes", []) if v["name"] != name]
        for c in spec["containers"]:
            c["volumeMounts"] = [m for m in c.get("volumeMounts", []) if m["name"] != name]
        changes.append(f"volume {name} removed (a pod without that mount)")
    if a.selinux_type:
        for c in spec["containers"]:
            c.setdefault("securityContext", {})["seLinuxOptions"] = {"type": a.selinux_type}
        changes.append(f"seLinuxOptions.type {a.selinux_type}")

    root = a.node_root.rstrip("/")
    for v in spec.get("volumes", []):
        hp = v.get("hostPath")
        if hp:
            changes.append(f"volume {v['name']}: hostPath {hp['path']} -> {root}{hp['path']}")
            hp["path"] = root + hp["path"]

    cms = [d for d in docs if d.get("kind") == "ConfigMap"]
    if a.unique:
        renamed = {}
        for cm in cms:
            renamed[cm["metadata"]["name"]] = f"{a.unique}-{cm['metadata']['name']}"
            cm["metadata"]["name"] = renamed[cm["metadata"]["name"]]
        names = {}
        for v in spec.get("volumes", []):
            names[v["name"]] = f"{a.unique}-{v['name']}"
            v["name"] = names[v["name"]]
            if "configMap" in v:
                v["configMap"]["name"] = renamed.get(v["configMap"]["name"], v["configMap"]["name"])
        for c in spec["containers"] + spec.get("initContainers", []):
            for m in c.get("volumeMounts", []):
                m["name"] = names.get(m["name"], m["name"])
        changes.append(f"volume and ConfigMap names prefixed with {a.unique}-")

    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": a.name, "labels": tmpl.get("metadata", {}).get("labels", {}),
                     "annotations": tmpl.get("metadata", {}).get("annotations", {})},
        "spec": spec,
    }
    with open(a.pod, "w") as f:
        yaml.safe_dump(pod, f, sort_keys=False)
    with open(a.configmaps, "w") as f:
        yaml.safe_dump_all(cms, f, sort_keys=False)
    for c in changes:
        print(f"pod_from_daemonset: {c}", file=sys.stderr)


if __name__ == "__main__":
    main()
