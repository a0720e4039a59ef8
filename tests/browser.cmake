# tests/browser.cmake: the live cluster page (GET /cluster to a browser) in
# Debian's headless chromium against three real pods. Label process: it runs
# real tallyds, so tools/test.sh runs it in its serial stage. Skipped (not
# passed) where chromium or node/npm is missing.
tally_add_script_test(browser_cluster_page process
    ${CMAKE_CURRENT_SOURCE_DIR}/browser/test_cluster_page.sh)
set_tests_properties(browser_cluster_page PROPERTIES SKIP_REGULAR_EXPRESSION "[0-9]+ skipped"
    TIMEOUT 600)
