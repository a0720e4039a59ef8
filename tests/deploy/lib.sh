# tests/deploy/lib.sh: helpers shared by the deploy tests (sourced after
# tests/process/lib.sh): skipping honestly, installing the pinned npm packages
# under the build tree once, and turning manifests.mjs's report lines into
# test results.

DEPLOY_DIR=$TALLY_SRC/tests/deploy
DEPLOY_NODE_MODULES=$TALLY_BUILD/deploy-validate
export DEPLOY_NODE_MODULES

# d_skip WHY: this machine cannot run the test; say so and count nothing.
d_skip() {
    echo "SKIP: $*"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
}

# d_npm_install: npm ci of package.json + package-lock.json into
# $DEPLOY_NODE_MODULES, skipped when that exact lock file is already installed.
# flock: ctest -j may start two deploy tests at once.
d_npm_install() {
    local stamp=$DEPLOY_NODE_MODULES/.installed want
    want=$(cat "$DEPLOY_DIR/package.json" "$DEPLOY_DIR/package-lock.json" | sha256sum | cut -d' ' -f1)
    mkdir -p "$DEPLOY_NODE_MODULES"
    (
        flock 9
        [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -d "$DEPLOY_NODE_MODULES/node_modules" ] && exit 0
        cp "$DEPLOY_DIR/package.json" "$DEPLOY_DIR/package-lock.json" "$DEPLOY_NODE_MODULES/"
        (cd "$DEPLOY_NODE_MODULES" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1) ||
            { cat "$DEPLOY_NODE_MODULES/npm.log"; exit 1; }
        echo "$want" >"$stamp"
    ) 9>"$DEPLOY_NODE_MODULES/.lock"
}

# d_results: read "ok\tDESC" / "fail\tDESC\tWHY" lines on stdin into ok/not_ok.
# Runs in the current shell (use with < <(...)) so the counters stick.
d_results() {
    local st desc why
    while IFS=$'\t' read -r st desc why; do
        case $st in
        ok) ok "$desc" ;;
        fail) not_ok "$desc: $why" ;;
        *) not_ok "unexpected output: $st $desc $why" ;;
        esac
    done
}

# d_manifests ARGS...: run manifests.mjs on the YAML on stdin.
d_manifests() { node "$DEPLOY_DIR/manifests.mjs" "$@"; }
