# test_manifests.sh: deploy/ as an operator applies it, checked offline.
# `kubectl kustomize` renders the base and the authenticated overlay; every
# object validates against the Kubernetes schema (npm kubernetes-models, pinned
# in tests/deploy/package-lock.json); then the fields operators and tallyd rely
# on are asserted one by one (names, ports, probes, security, sizing, key file).
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tests/deploy/lib.sh"

command -v kubectl >/dev/null || d_skip "kubectl not found (it renders the kustomizations)"
{ command -v npm && command -v node; } >/dev/null || d_skip "node/npm not found"
check "npm packages installed under $DEPLOY_NODE_MODULES" d_npm_install

for k in deploy deploy/overlays/authenticated; do
    if kubectl kustomize "$TALLY_SRC/$k" >"$T_WORK/${k//\//_}.yaml" 2>"$T_WORK/err"; then
        ok "kubectl kustomize $k renders"
    else
        not_ok "kubectl kustomize $k renders: $(cat "$T_WORK/err")"
    fi
done
base=$T_WORK/deploy.yaml
auth=$T_WORK/deploy_overlays_authenticated.yaml

d_results < <(d_manifests validate <"$base")
d_results < <(d_manifests validate <"$auth")
d_results < <(d_manifests assert <"$base")
d_results < <(d_manifests assert auth <"$auth")
check_eq "the overlay only adds to the base (nothing removed or changed)" \
    "$(diff "$base" "$auth" | grep -c '^<')" 0

# The checks above must be able to fail: a broken object is caught.
sed 's/^  replicas: 3$/  replicas: three/' "$base" >"$T_WORK/broken.yaml"
check "a StatefulSet with replicas: three fails schema validation" \
    grep -q "^fail	StatefulSet/myapp-stateful validates" < <(d_manifests validate <"$T_WORK/broken.yaml")
sed 's|path: /healthz|path: /|' "$base" >"$T_WORK/broken.yaml"
check "a liveness probe on / fails the assertions" \
    grep -q "^fail	livenessProbe never requests /" < <(d_manifests assert <"$T_WORK/broken.yaml")
t_done
