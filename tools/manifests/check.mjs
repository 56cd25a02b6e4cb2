#!/usr/bin/env node
// Offline checks of nodeguard's deployment files:
//  1. renders every kustomization under manifests/ (our small renderer for the kustomize subset
//     we use: resources, namespace, labels, JSON 6902 patches, configMapGenerator), and compares
//     with `kubectl kustomize` when that tool is on the PATH;
//  2. validates every object against the Kubernetes and prometheus-operator schemas
//     (kubernetes-models, @kubernetes-models/prometheus-operator);
//  3. parses every PromQL expression (alerts and dashboard) with Prometheus' own grammar;
//  4. writes the metric names used by alerts and the dashboard (one per line) to the file given
//     with --metrics-out, for the test that checks they exist in the agent's /metrics.
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import YAML from "yaml";
import jsonpatch from "fast-json-patch";
import { parser as promqlParser } from "@prometheus-io/lezer-promql";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const manifests = path.join(root, "manifests");
const args = process.argv.slice(2);
const metricsOut = args.includes("--metrics-out") ? args[args.indexOf("--metrics-out") + 1] : null;
// --agent-configs DIR: for every rendering with a DaemonSet, write <name>.yaml (the ConfigMap's
// nodeguard.yaml) and <name>.args (the container args, one per line) for the real binary to check.
const agentConfigs = args.includes("--agent-configs") ? args[args.indexOf("--agent-configs") + 1] : null;
let failures = 0;
const fail = (msg) => { failures++; console.error(`FAIL: ${msg}`); };

// ---- rendering -----------------------------------------------------------------------------
function loadDocs(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))
    .map((d) => { if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`); return d.toJS(); })
    .filter((o) => o);
}

const clusterScoped = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding"]);

function render(dir) {
  const kfile = path.join(dir, "kustomization.yaml");
  const k = YAML.parse(fs.readFileSync(kfile, "utf8"));
  let objs = [];
  for (const r of k.resources || []) {
    const p = path.join(dir, r);
    objs.push(...(fs.statSync(p).isDirectory() ? render(p) : loadDocs(p)));
  }
  for (const g of k.configMapGenerator || []) {
    const data = {};
    for (const f of g.files || []) {
      const [key, file] = f.includes("=") ? f.split("=") : [path.basename(f), f];
      data[key] = fs.readFileSync(path.join(dir, file), "utf8");
    }
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: g.name }, data };
    if (g.options?.labels) cm.metadata.labels = { ...g.options.labels };
    if (!g.options?.disableNameSuffixHash) throw new Error(`${kfile}: set disableNameSuffixHash`);
    objs.push(cm);
  }
  for (const pt of k.patches || []) {
    const ops = YAML.parse(fs.readFileSync(path.join(dir, pt.path), "utf8"));
    const targets = objs.filter((o) => o.kind === pt.target.kind && o.metadata.name === pt.target.name);
    if (targets.length !== 1) throw new Error(`${kfile}: patch ${pt.path} matches ${targets.length} objects`);
    jsonpatch.applyPatch(targets[0], ops, true, true);
  }
  if (k.namespace) {
    // Cluster-scoped kinds keep no namespace (as kustomize does).
    for (const o of objs) if (!clusterScoped.has(o.kind)) o.metadata.namespace = k.namespace;
  }
  for (const l of k.labels || []) {
    for (const o of objs) o.metadata.labels = { ...(o.metadata.labels || {}), ...l.pairs };
  }
  return objs;
}

function canonical(v) {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v).sort().map((key) => [key, canonical(v[key])]));
  }
  return v;
}

function kubectlAvailable() {
  try { execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" }); return true; } catch { return false; }
}

// ---- schemas -------------------------------------------------------------------------------
async function modelFor(obj) {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  if (group === "monitoring.coreos.com") {
    const m = await import(`@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}`);
    return m[obj.kind];
  }
  const dir = group === "" ? `v1` : `${group}/${version}`;
  const m = await import(`kubernetes-models/${dir}`);
  return m[obj.kind];
}

// ---- PromQL --------------------------------------------------------------------------------
const metricNames = new Set();
function checkPromQL(expr, where) {
  const tree = promqlParser.parse(expr);
  let bad = null;
  tree.iterate({
    enter(n) {
      if (n.type.isError && !bad) bad = n.from;
      if (n.name === "Identifier" || n.name === "MetricName") {
        const text = expr.slice(n.from, n.to);
        if (text.startsWith("nodeguard_") || text.startsWith("process_")) metricNames.add(text);
      }
    },
  });
  if (bad !== null) fail(`${where}: PromQL does not parse near offset ${bad}: ${expr}`);
}

// ---- RBAC ----------------------------------------------------------------------------------
// The agent's token is mounted only where something grants it the Kubernetes API exporter's
// role, and its roles grant exactly the requests the exporter makes (agent/kube): get nodes,
// patch nodes/status, create/patch events; patch nodes only with taints configured.
const exporterVerbs = { "nodes": ["get"], "nodes/status": ["patch"], "events": ["create", "patch"] };
function checkRbac(objs, rel) {
  const ds = objs.find((o) => o.kind === "DaemonSet" && o.metadata.name === "nodeguard");
  if (!ds) return;
  const pod = ds.spec.template.spec;
  const sa = pod.serviceAccountName || "default";
  const bound = objs.filter((o) => o.kind === "ClusterRoleBinding" &&
    (o.subjects || []).some((s) => s.kind === "ServiceAccount" && s.name === sa));
  const mounted = pod.automountServiceAccountToken !== false;
  if (!mounted && bound.length) fail(`${rel}: ClusterRoleBinding for ${sa} but no token mounted`);
  if (mounted && !bound.length) fail(`${rel}: the token is mounted but nothing is granted`);
  if (!mounted) return;
  const args = (pod.containers[0].args || []).join(" ");
  const taints = /--kubernetes-taints=\S/.test(args);
  const granted = {};
  for (const b of bound) {
    const role = objs.find((o) => o.kind === "ClusterRole" && o.metadata.name === b.roleRef.name);
    if (!role) { fail(`${rel}: ${b.metadata.name} binds a missing ClusterRole`); continue; }
    for (const r of role.rules) for (const res of r.resources) {
      if (JSON.stringify(r.apiGroups) !== '[""]') fail(`${rel}: ${role.metadata.name}: not the core group`);
      granted[res] = [...new Set([...(granted[res] || []), ...r.verbs])].sort();
    }
  }
  const want = JSON.parse(JSON.stringify(exporterVerbs));
  if (taints) want.nodes = ["get", "patch"];
  const norm = (m) => JSON.stringify(Object.fromEntries(Object.keys(m).sort().map((k) => [k, [...m[k]].sort()])));
  if (norm(granted) !== norm(want)) fail(`${rel}: RBAC grants ${norm(granted)}, the exporter uses ${norm(want)}`);
  if (!/--kubernetes-enabled=true/.test(args)) fail(`${rel}: token mounted but --kubernetes-enabled=true not set`);
}

// ---- main ----------------------------------------------------------------------------------
const dirs = [];
(function walk(d) {
  if (fs.existsSync(path.join(d, "kustomization.yaml"))) dirs.push(d);
  for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
})(manifests);

const useKubectl = kubectlAvailable();
let objects = 0;
for (const dir of dirs) {
  const rel = path.relative(root, dir);
  let objs;
  try { objs = render(dir); } catch (e) { fail(`${rel}: ${e.message}`); continue; }
  if (useKubectl) {
    try {
      const out = execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
      const theirs = YAML.parseAllDocuments(out).map((d) => canonical(d.toJS()));
      const ours = objs.map(canonical);
      const key = (o) => `${o.kind}/${o.metadata.namespace || ""}/${o.metadata.name}`;
      const sort = (a) => [...a].sort((x, y) => key(x).localeCompare(key(y)));
      if (JSON.stringify(sort(theirs)) !== JSON.stringify(sort(ours))) fail(`${rel}: our rendering differs from kubectl kustomize`);
    } catch (e) { fail(`${rel}: kubectl kustomize failed: ${e.message}`); }
  }
  checkRbac(objs, rel);
  if (agentConfigs) {
    const ds = objs.find((o) => o.kind === "DaemonSet");
    const cm = objs.find((o) => o.kind === "ConfigMap" && o.data?.["nodeguard.yaml"]);
    if (ds && cm) {
      const name = rel.replaceAll("/", "_");
      fs.mkdirSync(agentConfigs, { recursive: true });
      fs.writeFileSync(path.join(agentConfigs, `${name}.yaml`), cm.data["nodeguard.yaml"]);
      const c = ds.spec.template.spec.containers[0];
      fs.writeFileSync(path.join(agentConfigs, `${name}.args`), (c.args || []).join("\n") + "\n");
    }
  }
  for (const o of objs) {
    const where = `${rel}: ${o.kind}/${o.metadata?.name}`;
    const Model = await modelFor(o).catch(() => null);
    if (!Model) { fail(`${where}: no schema for ${o.apiVersion} ${o.kind}`); continue; }
    try { new Model(o).validate(); objects++; } catch (e) { fail(`${where}: ${e.message.split("\n").slice(0, 5).join(" | ")}`); }
    if (o.kind === "PrometheusRule") {
      for (const g of o.spec.groups) for (const r of g.rules) {
        checkPromQL(r.expr, `${where} ${r.alert || r.record}`);
        if (r.alert && !r.annotations?.runbook_url) fail(`${where} ${r.alert}: no runbook_url`);
      }
    }
    if (o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard) {
      for (const [file, text] of Object.entries(o.data)) {
        const dash = JSON.parse(text);
        for (const p of dash.panels || []) for (const t of p.targets || []) {
          checkPromQL(t.expr.replaceAll("$node", "x").replaceAll("$__rate_interval", "5m"), `${where} ${file} panel "${p.title}"`);
        }
      }
    }
  }
}
if (metricsOut) fs.writeFileSync(metricsOut, [...metricNames].sort().join("\n") + "\n");
console.log(`${dirs.length} kustomizations, ${objects} objects valid${useKubectl ? " (cross-checked with kubectl kustomize)" : ""}, ${metricNames.size} metric names referenced`);
if (failures) { console.error(`${failures} failure(s)`); process.exit(1); }
