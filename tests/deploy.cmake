# tests/deploy.cmake: the deployment's tests. deploy: the rendered manifests
# validated offline; netns: the rendered StatefulSet replayed on a simulated
# cluster network (root); image: deploy/Dockerfile built and run with podman
# (root). A test that cannot run here prints "1 skipped" and ctest shows it
# as skipped, not passed.
tally_add_script_test(deploy_manifests deploy ${CMAKE_CURRENT_SOURCE_DIR}/deploy/test_manifests.sh)
tally_add_script_test(deploy_netns netns ${CMAKE_CURRENT_SOURCE_DIR}/deploy/test_netns.sh)
tally_add_script_test(deploy_image image ${CMAKE_CURRENT_SOURCE_DIR}/deploy/test_image.sh)
set_tests_properties(deploy_manifests deploy_netns deploy_image PROPERTIES
    SKIP_REGULAR_EXPRESSION "[0-9]+ skipped")
set_tests_properties(deploy_netns PROPERTIES TIMEOUT 180)
set_tests_properties(deploy_image PROPERTIES TIMEOUT 900)
