# test_cluster_page.sh: GET /cluster in a real browser. Three real tallyd pods
# on 127.0.31.10-12 with dnsmasq as their headless service (tools/cluster-lib.sh);
# first curl and tallyctl are checked to get exactly the JSON they always got
# (Vary: Accept on it), then Debian's chromium, headless, driven through the
# DevTools protocol by puppeteer-core (cluster_page.mjs), watches pod 0's page
# while a visit lands on pod 1, pod 2 is killed with -9, a member named with
# <script> arrives by gossip, and finally pod 0 itself dies. The screenshot it
# takes is docs/cluster-page.png.
#
# Needs chromium, node and npm (tools/install-deps.sh installs them) and the
# npm registry once (puppeteer-core, pinned in package-lock.json, installed
# under the build tree). Without them it says so and is skipped.
. "$TALLY_SRC/tests/process/lib.sh"
. "$TALLY_SRC/tests/deploy/lib.sh"
. "$TALLY_SRC/tools/cluster-lib.sh"

BROWSER_DIR=$TALLY_SRC/tests/browser
BROWSER_MODULES=$TALLY_BUILD/browser-test
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || d_skip "$CHROMIUM not found (tools/install-deps.sh installs chromium)"
{ command -v npm && command -v node; } >/dev/null || d_skip "node/npm not found"
command -v dnsmasq >/dev/null || d_skip "dnsmasq not found"

# npm ci of the pinned puppeteer-core into the build tree, once per lock file.
b_npm_install() {
    local stamp=$BROWSER_MODULES/.installed want
    want=$(cat "$BROWSER_DIR/package.json" "$BROWSER_DIR/package-lock.json" | sha256sum | cut -d' ' -f1)
    mkdir -p "$BROWSER_MODULES"
    (
        flock 9
        [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && [ -d "$BROWSER_MODULES/node_modules" ] && exit 0
        cp "$BROWSER_DIR/package.json" "$BROWSER_DIR/package-lock.json" "$BROWSER_DIR/cluster_page.mjs" \
            "$BROWSER_MODULES/"
        (cd "$BROWSER_MODULES" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1) ||
            { cat "$BROWSER_MODULES/npm.log"; exit 1; }
        echo "$want" >"$stamp"
    ) 9>"$BROWSER_MODULES/.lock"
}
check "puppeteer-core installed under $BROWSER_MODULES" b_npm_install
# The script runs from beside its node_modules so its import resolves there.
cp "$BROWSER_DIR/cluster_page.mjs" "$BROWSER_MODULES/cluster_page.mjs"

CL_NET=127.0.31
CL_DNS_PORT=5371
GOSSIP_MS=200
CL_TALLYD_ARGS="--gossip-interval $GOSSIP_MS --dns-interval 500 --recovery-wait 2000"
cl_init "$T_WORK" "$TALLYD"
cl_dns_start 3
# The member with <script> in its name (sent by gossip_forge.py in the
# browser part) speaks from an address the service lists: without a key
# tallyd hears only those, and a listed address can still claim any name.
echo "9 $CL_NET.99" >>"$CL_WORK/endpoints"
cl_dns_write
for i in 0 1 2; do cl_pod_start $i; done
for i in 0 1 2; do check "pod $i ready" cl_wait_http $i /readyz 100; done
visit() { local k; for k in $(seq "$2"); do curl -fsS -o /dev/null "$(cl_pod_url "$1" /)"; done; }
visit 0 2
visit 1 3
visit 2 4
total_is() { [ "$(curl -fsS --max-time 2 "$(cl_pod_url 0 /cluster)" | json_get total 2>/dev/null)" = "$1" ]; }
wait_total() { local t; for t in $(seq 50); do total_is "$1" && return 0; sleep 0.2; done; return 1; }
check "pod 0 sees the total 9" wait_total 9

# --- JSON for everyone but a browser, exactly as before --------------------
URL0=$(cl_pod_url 0 /cluster)
BROWSER_ACCEPT='text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7'
# get NAME CURL-ARGS...: headers in $T_WORK/NAME.h, body in $T_WORK/NAME.b;
# last_seen_ms moves between requests, so it is blanked for comparing.
get() {
    local n=$1
    shift
    curl -fsS -D "$T_WORK/$n.h" -o "$T_WORK/$n.raw" "$@" "$URL0"
    sed -E 's/"last_seen_ms": [0-9]+/"last_seen_ms": _/' "$T_WORK/$n.raw" >"$T_WORK/$n.b"
}
hdr() { tr -d '\r' <"$T_WORK/$1.h" | awk -F': ' -v k="$2" 'tolower($1) == tolower(k) { print $2 }'; }
get curl
get none -H 'Accept:'
get json -H 'Accept: application/json'
get both -H 'Accept: application/json, text/html'
get plain -H 'Accept: text/plain'
get zero -H 'Accept: text/html;q=0, */*'
get html -H "Accept: $BROWSER_ACCEPT"
check_eq "curl (Accept: */*) gets JSON" "$(hdr curl content-type)" "application/json"
check "... the /cluster JSON: pod, total, and a row per pod in today's field order" \
    grep -qE '^\{"pod": "myapp-stateful-0", "total": 9, "pods": \[$' "$T_WORK/curl.b"
# (the fields after address belong to the counter model, not to this test)
check "... each row as before: name, visits, state, address first" test "$(grep -cE '^  \{"name": "myapp-stateful-[0-2]", "visits": [0-9]+, "state": "alive", "address": "127\.0\.31\.1[0-2]:7946", "last_seen_ms": _, .*\},?$' "$T_WORK/curl.b")" = 3
for n in none json both plain zero; do
    check "Accept of '$n' gets the same JSON as curl" cmp -s "$T_WORK/curl.b" "$T_WORK/$n.b"
    check_eq "... with Vary: Accept" "$(hdr $n vary)" "Accept"
done
check_eq "curl's JSON has Vary: Accept" "$(hdr curl vary)" "Accept"
check_eq "a browser's Accept gets HTML" "$(hdr html content-type)" "text/html; charset=utf-8"
check_eq "... with Vary: Accept" "$(hdr html vary)" "Accept"
check "... that loads nothing from elsewhere (no src= or href= but data: and /)" \
    test "$(grep -oE '(src|href)="[^"]*"' "$T_WORK/html.raw" | grep -cvE '="(data:,|/|/cluster)"')" = 0
check_eq "HEAD with a browser's Accept: the page's length, no body" \
    "$(curl -fsS -I -H "Accept: $BROWSER_ACCEPT" "$URL0" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-length" {print $2}')" \
    "$(wc -c <"$T_WORK/html.raw" | tr -d ' ')"
"$TALLY_BUILD/tools/tallyctl" --url "$(cl_pod_url 0)" cluster --json >"$T_WORK/ctl.raw"
sed -E 's/"last_seen_ms": [0-9]+/"last_seen_ms": _/' "$T_WORK/ctl.raw" >"$T_WORK/ctl.b"
check "tallyctl cluster --json prints the same JSON as curl" cmp -s "$T_WORK/curl.b" "$T_WORK/ctl.b"
curl -fsS "$(cl_pod_url 0 /)" >"$T_WORK/visit.html" # a visit: the total becomes 10
check "the visit page at / links to /cluster" grep -q 'href="/cluster"' "$T_WORK/visit.html"
check "pod 0 sees the total 10 after that visit" wait_total 10

# tallyctl cluster --watch, piped, sees the same story as the page (a line per change).
"$TALLY_BUILD/tools/tallyctl" --url "$(cl_pod_url 0)" cluster --watch >"$T_WORK/watch.out" 2>&1 &
WATCH_PID=$!
T_PIDS+=("$WATCH_PID")

# --- the page in chromium --------------------------------------------------
SHOT=$TALLY_BUILD/cluster-page.png
rm -f "$SHOT"
d_results < <(
    cd "$BROWSER_MODULES" &&
        POD0_URL=$(cl_pod_url 0) POD1_URL=$(cl_pod_url 1) POD_NAMES="$(cl_pod 0) $(cl_pod 1) $(cl_pod 2)" \
            GOSSIP_MS=$GOSSIP_MS POD0_PID=$(cl_pod_pid 0) POD2_PID=$(cl_pod_pid 2) \
            FORGE="$TALLY_SRC/tests/process/gossip_forge.py" POD0_GOSSIP="$(cl_ip 0):$CL_GOSSIP_PORT" \
            FORGE_IP=$CL_NET.99 PROFILE_DIR="$T_WORK/chromium" SHOT="$SHOT" CHROMIUM="$CHROMIUM" \
            timeout 300 node cluster_page.mjs 2>"$T_WORK/node.err"
    echo "exit $?" >"$T_WORK/node.rc"
)
check_eq "the browser script exited 0" "$(cat "$T_WORK/node.rc")" "exit 0"
[ -s "$T_WORK/node.err" ] && { echo "node's stderr:"; cat "$T_WORK/node.err"; }
check "it took a screenshot ($SHOT)" test -s "$SHOT"

# The watcher polls once a second: two periods after pod 0 died it has said so.
watch_has() { grep -qE "$1" "$T_WORK/watch.out"; }
wait_watch() { local t; for t in $(seq 50); do watch_has "$1" && return 0; sleep 0.1; done; return 1; }
check "cluster --watch: tallyd stopped answering, in one line" \
    wait_watch "^[0-9TZ:-]+ tallyd is not answering on http://$CL_NET.10:8000"
check "cluster --watch: first a line per pod" watch_has "^[0-9TZ:-]+ $(cl_pod 2) alive 4 visits$"
check "cluster --watch: ... and the total" watch_has "^[0-9TZ:-]+ total 10 visits \(as seen by $(cl_pod 0)\)$"
check "cluster --watch: the visit on pod 1" watch_has "^[0-9TZ:-]+ $(cl_pod 1) alive 4 visits \(\+1\)$"
check "cluster --watch: the total it made" watch_has "^[0-9TZ:-]+ total 11 visits \(\+1\)"
check "cluster --watch: pod 2 killed" watch_has "^[0-9TZ:-]+ $(cl_pod 2) (suspect|dead) 4 visits \(was alive\)$"
check "cluster --watch: the stranger's name, as text" watch_has "<script>top.pwned=1</script>"
check "cluster --watch: silent while nothing changes (< 30 lines)" test "$(wc -l <"$T_WORK/watch.out")" -lt 30
kill "$WATCH_PID"
echo "--- tallyctl cluster --watch said:"
cat "$T_WORK/watch.out"
t_done
