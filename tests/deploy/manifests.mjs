// tests/deploy/manifests.mjs: reads what `kubectl kustomize` rendered (stdin)
// for the deploy tests.
//   validate        every object against its Kubernetes schema (kubernetes-models)
//   assert [auth|monitor]  the fields operators and tallyd rely on (auth: the
//                   authenticated overlay's too; monitor: the PodMonitor component's)
//   pod NAME IP NS  the tallyd container as the kubelet would start it in pod NAME:
//                   "mount PATH", then "env NAME VALUE" and "arg VALUE" lines
//                   (tab separated), with the downward API and $(VAR) resolved
// Lines "ok\tDESC" / "fail\tDESC\tWHY" are turned into test results by the caller.
// The npm packages live under the build tree: DEPLOY_NODE_MODULES names the
// folder holding node_modules (see package.json beside this file).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const modDir = process.env.DEPLOY_NODE_MODULES;
if (!modDir) {
    console.error("manifests.mjs: DEPLOY_NODE_MODULES unset");
    process.exit(2);
}
const require = createRequire(join(modDir, "package.json"));
const YAML = require("yaml");

const docs = YAML.parseAllDocuments(readFileSync(0, "utf8"))
    .map((d) => d.toJS())
    .filter((o) => o);
const find = (kind, name) => docs.find((o) => o.kind === kind && o.metadata?.name === name);
const report = (ok, desc, why) => console.log(ok ? `ok\t${desc}` : `fail\t${desc}\t${why}`);
const expect = (desc, got, want) =>
    report(JSON.stringify(got) === JSON.stringify(want), desc,
        `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
const truthy = (desc, cond, why = "") => report(Boolean(cond), desc, why);

// validate: kubernetes-models' schema for apiVersion/kind, e.g. apps/v1 StatefulSet
// -> kubernetes-models/apps/v1/StatefulSet; the Prometheus Operator's kinds
// (PodMonitor) from @kubernetes-models/prometheus-operator. Unknown fields are
// not rejected by these schemas, so `assert` reads every field that matters by
// its exact path.
const schemaModule = (apiVersion, kind) =>
    apiVersion.startsWith("monitoring.coreos.com/")
        ? `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`
        : `kubernetes-models/${apiVersion}/${kind}`;
function validate() {
    truthy("rendered YAML holds objects", docs.length > 0);
    for (const o of docs) {
        const what = `${o.kind}/${o.metadata?.name}`;
        let Model;
        try {
            Model = require(schemaModule(o.apiVersion, o.kind))[o.kind];
        } catch (e) {
            report(false, `${what} has a known schema`, `${o.apiVersion} ${o.kind}: ${e.message}`);
            continue;
        }
        try {
            new Model(o).validate();
            report(true, `${what} validates against the ${o.apiVersion} schema`);
        } catch (e) {
            report(false, `${what} validates against the ${o.apiVersion} schema`, e.message);
        }
    }
}

const matches = (selector, labels) =>
    Object.entries(selector || {}).every(([k, v]) => labels?.[k] === v) &&
    Object.keys(selector || {}).length > 0;
const envOf = (c, name) => (c.env || []).find((e) => e.name === name);
const argValue = (args, flag) => {
    for (let i = 0; i < args.length; i++) {
        if (args[i] === flag) return args[i + 1];
        if (args[i].startsWith(flag + "=")) return args[i].slice(flag.length + 1);
    }
    return undefined;
};
// Quantities as the API reads them, enough for cpu and memory here.
function quantity(q) {
    const m = /^([0-9.]+)(m|Ki|Mi|Gi|k|M|G)?$/.exec(String(q));
    if (!m) return NaN;
    const mult = { m: 1e-3, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };
    return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}

// kubelet's $(VAR) expansion: defined names are replaced, $$ is a literal $,
// anything else is left as written.
function expand(s, vars) {
    return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name) =>
        all === "$$" ? "$" : name in vars ? vars[name] : all);
}

// The container's environment in order, each value expanded against the ones
// before it, with the downward API fields the manifests use.
function containerEnv(c, pod) {
    const vars = {};
    for (const e of c.env || []) {
        if (e.value !== undefined) vars[e.name] = expand(e.value, vars);
        else if (e.valueFrom?.fieldRef) {
            const f = e.valueFrom.fieldRef.fieldPath;
            const v = { "metadata.name": pod.name, "metadata.namespace": pod.ns,
                "status.podIP": pod.ip }[f];
            if (v === undefined) throw new Error(`env ${e.name}: unsupported fieldPath ${f}`);
            vars[e.name] = v;
        } else throw new Error(`env ${e.name}: only value and fieldRef are replayed`);
    }
    return vars;
}

function assertBase() {
    const sts = find("StatefulSet", "myapp-stateful");
    truthy("StatefulSet myapp-stateful exists", sts);
    if (!sts) return;
    const spec = sts.spec, pod = spec.template.spec;
    const c = pod.containers?.[0] || {};
    const podLabels = spec.template.metadata?.labels;
    expect("3 replicas", spec.replicas, 3);
    expect("podManagementPolicy Parallel", spec.podManagementPolicy, "Parallel");
    expect("serviceName myapp-headless", spec.serviceName, "myapp-headless");
    truthy("selector matches the pod labels", matches(spec.selector?.matchLabels, podLabels));
    expect("one container", pod.containers?.length, 1);
    expect("the image's entrypoint runs (no command override)", c.command, undefined);

    const vct = spec.volumeClaimTemplates || [];
    expect("one volumeClaimTemplate named data", vct.map((v) => v.metadata?.name), ["data"]);
    expect("data is ReadWriteOnce", vct[0]?.spec?.accessModes, ["ReadWriteOnce"]);
    expect("data requests 1Gi", vct[0]?.spec?.resources?.requests?.storage, "1Gi");
    const mount = (c.volumeMounts || []).find((m) => m.name === "data");
    expect("data mounted at /data", mount?.mountPath, "/data");
    expect("--data-dir is the data mount", argValue(c.args || [], "--data-dir"), mount?.mountPath);

    expect("POD_NAME from metadata.name", envOf(c, "POD_NAME")?.valueFrom?.fieldRef?.fieldPath,
        "metadata.name");
    expect("POD_IP from status.podIP", envOf(c, "POD_IP")?.valueFrom?.fieldRef?.fieldPath,
        "status.podIP");
    expect("POD_NAMESPACE from metadata.namespace",
        envOf(c, "POD_NAMESPACE")?.valueFrom?.fieldRef?.fieldPath, "metadata.namespace");
    const vars = containerEnv(c, { name: "myapp-stateful-0", ns: "shop", ip: "10.0.0.1" });
    const args = (c.args || []).map((a) => expand(a, vars));
    // tallyd takes --service, else TALLY_SERVICE; tallyctl dns reads TALLY_SERVICE.
    const svc = argValue(args, "--service") ?? vars.TALLY_SERVICE;
    expect("the headless service is given by its short name (resolv.conf's search list completes it)",
        svc, spec.serviceName);
    expect("tallyctl dns finds the same service (TALLY_SERVICE)", vars.TALLY_SERVICE, svc);
    const domains = [...new Set(JSON.stringify(docs).match(/[a-z0-9.-]*cluster\.local/g) || [])];
    expect("no cluster domain hard-coded anywhere (it is not always cluster.local)", domains, []);

    const ports = (c.ports || []).map((p) => `${p.name} ${p.containerPort}/${p.protocol}`);
    expect("container ports http 8000/TCP, gossip 7946/UDP and 7946/TCP (push-pull)", ports,
        ["http 8000/TCP", "gossip 7946/UDP", "gossip-pp 7946/TCP"]);

    const probePath = (p) => p?.httpGet?.path;
    expect("liveness probe GET /healthz", probePath(c.livenessProbe), "/healthz");
    expect("readiness probe GET /readyz", probePath(c.readinessProbe), "/readyz");
    // A startup probe that failed on /readyz would restart a pod that is up
    // but cannot be ready (read-only volume), again and again.
    expect("startup probe GET /healthz: a pod that is up but not ready is not restarted",
        probePath(c.startupProbe), "/healthz");
    for (const k of ["livenessProbe", "readinessProbe", "startupProbe"])
        truthy(`${k} never requests / (it counts a visit)`, probePath(c[k]) !== "/" &&
            c[k]?.httpGet?.port === "http", JSON.stringify(c[k]));
    const sp = c.startupProbe || {};
    const budget = (sp.periodSeconds ?? 10) * (sp.failureThreshold ?? 3);
    truthy("startup probe gives tallyd at least 10 s to answer", budget >= 10, `${budget} s`);

    const tsc = pod.topologySpreadConstraints || [];
    const byNode = tsc.find((t) => t.topologyKey === "kubernetes.io/hostname");
    truthy("pods spread across nodes", byNode && matches(byNode.labelSelector?.matchLabels, podLabels),
        JSON.stringify(tsc));
    expect("the spread is soft (a pod that cannot be spread still starts)",
        byNode?.whenUnsatisfiable, "ScheduleAnyway");

    const tmp = (c.volumeMounts || []).find((m) => m.mountPath === "/tmp");
    const tmpVol = (pod.volumes || []).find((v) => v.name === tmp?.name);
    truthy("/tmp is a small emptyDir (wget's index.html with a read-only root)",
        tmpVol?.emptyDir && quantity(tmpVol.emptyDir.sizeLimit) <= 64 * 1024 ** 2,
        JSON.stringify(tmpVol));

    const sleep = c.lifecycle?.preStop?.sleep?.seconds;
    truthy("preStop is a short native sleep", sleep > 0 && sleep <= 10, JSON.stringify(c.lifecycle));
    const grace = pod.terminationGracePeriodSeconds;
    truthy("grace period covers preStop + the 10 s drain + the final write",
        grace >= (sleep || 0) + 10 + 1 && grace <= 60, `grace ${grace}, preStop ${sleep}`);

    const r = c.resources || {};
    for (const k of ["cpu", "memory"]) {
        const req = quantity(r.requests?.[k]), lim = quantity(r.limits?.[k]);
        truthy(`${k} request and limit set, request <= limit`, req > 0 && lim >= req,
            JSON.stringify(r));
    }

    const psc = pod.securityContext || {};
    expect("pod runAsNonRoot", psc.runAsNonRoot, true);
    truthy("pod runs as a non-zero uid", psc.runAsUser > 0, JSON.stringify(psc));
    truthy("fsGroup set so the volume is writable", psc.fsGroup > 0, JSON.stringify(psc));
    expect("seccomp RuntimeDefault", psc.seccompProfile?.type, "RuntimeDefault");
    const csc = c.securityContext || {};
    expect("readOnlyRootFilesystem", csc.readOnlyRootFilesystem, true);
    expect("allowPrivilegeEscalation false", csc.allowPrivilegeEscalation, false);
    expect("capabilities drop ALL", csc.capabilities?.drop, ["ALL"]);
    truthy("container not privileged", !csc.privileged);

    const hl = find("Service", "myapp-headless");
    truthy("Service myapp-headless exists", hl);
    expect("headless: clusterIP None", hl?.spec?.clusterIP, "None");
    expect("headless: publishNotReadyAddresses", hl?.spec?.publishNotReadyAddresses, true);
    expect("headless: named ports http 8000/TCP, gossip 7946/UDP and 7946/TCP (SRV records)",
        (hl?.spec?.ports || []).map((p) => `${p.name} ${p.port}/${p.protocol} -> ${p.targetPort}`),
        ["http 8000/TCP -> http", "gossip 7946/UDP -> gossip", "gossip-pp 7946/TCP -> gossip-pp"]);
    truthy("headless: selects the pods", matches(hl?.spec?.selector, podLabels));

    const np = find("Service", "myapp-service");
    truthy("Service myapp-service exists", np);
    expect("myapp-service is a NodePort", np?.spec?.type, "NodePort");
    expect("myapp-service: 8000 -> nodePort 30001",
        (np?.spec?.ports || []).map((p) => `${p.port}/${p.protocol} ${p.targetPort} ${p.nodePort}`),
        ["8000/TCP http 30001"]);
    truthy("myapp-service selects the pods", matches(np?.spec?.selector, podLabels));

    const pdbs = docs.filter((o) => o.kind === "PodDisruptionBudget");
    expect("one PodDisruptionBudget", pdbs.length, 1);
    expect("PDB maxUnavailable 1", pdbs[0]?.spec?.maxUnavailable, 1);
    expect("PDB lets drains evict pods that are not ready", pdbs[0]?.spec?.unhealthyPodEvictionPolicy,
        "AlwaysAllow");
    truthy("PDB selects the pods", matches(pdbs[0]?.spec?.selector?.matchLabels, podLabels));

    const pol = find("NetworkPolicy", "myapp-stateful");
    truthy("NetworkPolicy myapp-stateful exists", pol);
    truthy("NetworkPolicy applies to the pods", matches(pol?.spec?.podSelector?.matchLabels, podLabels));
    expect("NetworkPolicy governs ingress only", pol?.spec?.policyTypes, ["Ingress"]);
    const rules = pol?.spec?.ingress || [];
    const rulesFor = (proto, port) =>
        rules.filter((r) => (r.ports || []).some((p) => p.protocol === proto && p.port === port));
    const http = rulesFor("TCP", 8000);
    truthy("NetworkPolicy admits HTTP 8000 from anywhere", http.length === 1 && !http[0].from);
    for (const proto of ["UDP", "TCP"]) {
        const gossip = rulesFor(proto, 7946);
        truthy(`NetworkPolicy admits gossip 7946/${proto} only from the StatefulSet's pods`,
            gossip.length === 1 && (gossip[0].from || []).length === 1 &&
                matches(gossip[0].from[0].podSelector?.matchLabels, podLabels) &&
                !gossip[0].from[0].namespaceSelector && !gossip[0].from[0].ipBlock);
    }
    truthy("no other ingress rule opens gossip", rules.length === 2);

    assertLabels(sts, c);
    return c;
}

// The recommended labels on every object and on the pods, the same values
// everywhere, `version` the image's tag; none written into the
// volumeClaimTemplates, which are immutable: a label added there later (a new
// version) makes `kubectl apply` fail on the existing StatefulSet.
const RECOMMENDED = ["name", "instance", "component", "part-of", "managed-by", "version"].map(
    (k) => `app.kubernetes.io/${k}`);
function assertLabels(sts, c) {
    const tag = /:([^:/@]+)$/.exec(c.image || "")?.[1];
    const want = {};
    for (const o of docs) {
        const labels = o.metadata?.labels || {};
        const missing = RECOMMENDED.filter((k) => !labels[k]);
        truthy(`${o.kind}/${o.metadata?.name} carries the recommended labels`, missing.length === 0,
            `missing ${missing.join(", ")}`);
        for (const k of RECOMMENDED) want[k] ??= labels[k];
    }
    const differ = docs.filter((o) => RECOMMENDED.some((k) => o.metadata?.labels?.[k] !== want[k]));
    expect("the recommended labels have one value each across objects",
        differ.map((o) => `${o.kind}/${o.metadata?.name}`), []);
    const tpl = sts.spec.template.metadata?.labels || {};
    expect("the pods carry the recommended labels",
        RECOMMENDED.filter((k) => tpl[k] !== want[k]), []);
    expect("app.kubernetes.io/version is the image tag", want["app.kubernetes.io/version"], tag);
    expect("volumeClaimTemplates untouched: metadata is just the name",
        (sts.spec.volumeClaimTemplates || []).map((v) => v.metadata), [{ name: "data" }]);
}

function assertMonitor() {
    const pm = docs.filter((o) => o.kind === "PodMonitor");
    expect("one PodMonitor", pm.length, 1);
    const sts = find("StatefulSet", "myapp-stateful");
    const podLabels = sts?.spec?.template?.metadata?.labels;
    truthy("PodMonitor selects the pods", matches(pm[0]?.spec?.selector?.matchLabels, podLabels));
    expect("PodMonitor scrapes port http, path /metrics",
        (pm[0]?.spec?.podMetricsEndpoints || []).map((e) => `${e.port} ${e.path}`), ["http /metrics"]);
}

function assertAuth(c) {
    const vars = containerEnv(c, { name: "myapp-stateful-0", ns: "shop", ip: "10.0.0.1" });
    expect("overlay: TALLY_KEY_FILE /etc/tally/key (tallyctl ping needs no flag)",
        vars.TALLY_KEY_FILE, "/etc/tally/key");
    expect("overlay: tallyd's --key-file is the same file",
        argValue((c.args || []).map((a) => expand(a, vars)), "--key-file") ?? vars.TALLY_KEY_FILE,
        vars.TALLY_KEY_FILE);
    const mount = (c.volumeMounts || []).find((m) => m.mountPath === "/etc/tally");
    expect("overlay: /etc/tally mounted read-only", mount?.readOnly, true);
    const sts = find("StatefulSet", "myapp-stateful");
    const vol = (sts.spec.template.spec.volumes || []).find((v) => v.name === mount?.name);
    expect("overlay: from Secret tally-gossip-key", vol?.secret?.secretName, "tally-gossip-key");
    expect("overlay: the Secret's key `key` is the file `key`", vol?.secret?.items,
        [{ key: "key", path: "key" }]);
    truthy("overlay: key file readable by group only (fsGroup), not world",
        vol?.secret?.defaultMode === 0o440, `mode ${vol?.secret?.defaultMode?.toString(8)}`);
}

function podCommand(name, ip, ns) {
    const sts = find("StatefulSet", "myapp-stateful");
    const c = sts.spec.template.spec.containers[0];
    const vars = containerEnv(c, { name, ip, ns });
    const mount = (c.volumeMounts || []).find((m) => m.name === "data");
    console.log(`mount\t${mount.mountPath}`);
    for (const [k, v] of Object.entries(vars)) console.log(`env\t${k}\t${v}`);
    for (const a of c.args || []) console.log(`arg\t${expand(a, vars)}`);
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === "validate") validate();
else if (cmd === "assert") {
    const c = assertBase();
    if (rest[0] === "auth" && c) assertAuth(c);
    if (rest[0] === "monitor") assertMonitor();
} else if (cmd === "pod") podCommand(...rest);
else {
    console.error("usage: manifests.mjs validate | assert [auth|monitor] | pod NAME IP NAMESPACE");
    process.exit(2);
}
