# test_manifests.sh: deploy/ as an operator applies it, checked offline.
# `kubectl kustomize` renders the base, the authenticated overlay, the base
# with the PodMonitor component enabled as deploy/README.md says, and an
# overlay pointing the image at a registry; every object validates against the
# Kubernetes schema (npm kubernetes-models and @kubernetes-models/
# prometheus-operator, pinned in tests/deploy/package-lock.json); then the
# fields operators and tallyd rely on are asserted one by one (names, ports,
# probes, spread, security, sizing, labels, key file, PodMonitor, image).
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

# The PodMonitor component, enabled the way deploy/kustomization.yaml says:
# its two commented lines uncommented, in a copy of deploy/.
cp -r "$TALLY_SRC/deploy" "$T_WORK/monitored"
sed -i 's|^# components:$|components:|; s|^#   - components/podmonitor$|  - components/podmonitor|' \
    "$T_WORK/monitored/kustomization.yaml"
mon=$T_WORK/monitored.yaml
check "kubectl kustomize deploy/ with components/podmonitor enabled renders" \
    sh -c "kubectl kustomize '$T_WORK/monitored' >'$mon'"

d_results < <(d_manifests validate <"$base")
d_results < <(d_manifests validate <"$auth")
d_results < <(d_manifests validate <"$mon")
d_results < <(d_manifests assert <"$base")
d_results < <(d_manifests assert auth <"$auth")
d_results < <(d_manifests assert monitor <"$mon")
check_eq "the overlay only adds to the base (nothing removed or changed)" \
    "$(diff "$base" "$auth" | grep -c '^<')" 0
check_eq "the component only adds the PodMonitor" \
    "$(diff "$base" "$mon" | grep -c '^<')" 0

# The image reference as deploy/README.md tells an operator to set it: an
# overlay of their own with an `images:` entry (kustomize edit is not needed).
mkdir -p "$T_WORK/registry"
printf '%s\n' "resources:" "  - $(realpath --relative-to="$T_WORK/registry" "$TALLY_SRC/deploy")" "images:" "  - name: tally" \
    "    newName: registry.example.com/team/tally" "    newTag: 0.1.0" \
    >"$T_WORK/registry/kustomization.yaml"
check_eq "an overlay's images: entry points the pods at the pushed image" \
    "$(kubectl kustomize "$T_WORK/registry" | awk '$1 == "image:" {print $2}')" \
    registry.example.com/team/tally:0.1.0

# The checks above must be able to fail: a broken object is caught.
sed 's/^  replicas: 3$/  replicas: three/' "$base" >"$T_WORK/broken.yaml"
check "a StatefulSet with replicas: three fails schema validation" \
    grep -q "^fail	StatefulSet/myapp-stateful validates" < <(d_manifests validate <"$T_WORK/broken.yaml")
sed 's|path: /healthz|path: /|' "$base" >"$T_WORK/broken.yaml"
check "a liveness probe on / fails the assertions" \
    grep -q "^fail	livenessProbe never requests /" < <(d_manifests assert <"$T_WORK/broken.yaml")
# includeTemplates: true is how labels usually reach the pods, and how they
# reach the immutable volumeClaimTemplates too.
cp -r "$TALLY_SRC/deploy" "$T_WORK/vct"
sed -i 's|^    includeTemplates: false$|    includeTemplates: true|' "$T_WORK/vct/base/kustomization.yaml"
kubectl kustomize "$T_WORK/vct" >"$T_WORK/broken.yaml" 2>&1
check "labels written into volumeClaimTemplates fail the assertions" \
    grep -q "^fail	volumeClaimTemplates untouched" < <(d_manifests assert <"$T_WORK/broken.yaml")
sed 's|^    app.kubernetes.io/version: 0.1.0$|    app.kubernetes.io/version: 0.0.9|' "$base" >"$T_WORK/broken.yaml"
check "a version label that is not the image tag fails the assertions" \
    grep -q "^fail	app.kubernetes.io/version is the image tag" < <(d_manifests assert <"$T_WORK/broken.yaml")
t_done
