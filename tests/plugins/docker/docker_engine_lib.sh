#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# engine.sh itself, on the engine CIRCUIT_TEST_ENGINE names (no circuitd):
# the engine that answers is the one asked for; engine_pause stops its API
# (a container runs on) and engine_resume brings it back; engine_kill
# (SIGKILL) and engine_stop (SIGTERM) end the API process while the
# container runs on (podman's conmon; dockerd's live-restore), and
# engine_start starts the engine again on the same storage, where the
# container is still running. A container left running and the engine
# left stopped at the end are what engine.sh's cleanup must remove.
source "$CIRCUIT_TESTLIB"
source "$(dirname "$0")/engine.sh"

ping() { [ "$(curl -s --max-time 2 --unix-socket "$DOCKER_SOCK" http://docker/_ping 2>/dev/null)" = OK ]; }

components=$(engine_api GET /version | python3 -c 'import json,sys
print(" ".join(c["Name"] for c in json.load(sys.stdin)["Components"]))')
case "$ENGINE" in
podman) [[ "$components" == "Podman Engine"* ]] || fail "CIRCUIT_TEST_ENGINE=podman, but the engine's components are: $components" ;;
dockerd) [[ "$components" == "Engine containerd"* ]] || fail "CIRCUIT_TEST_ENGINE=dockerd, but the engine's components are: $components" ;;
esac
ok "the engine answering is $ENGINE ($components)"

id=$(engine_api POST '/containers/create?name=lib-sleeper' "{\"Image\":\"$IMAGE\",\"Cmd\":[\"sleep\",\"1000\"]}" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
[ -z "$(engine_api POST "/containers/$id/start")" ] || fail "the container did not start"
pid=$(engine_api GET "/containers/$id/json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["State"]["Pid"])')
[ "$pid" -gt 0 ] && kill -0 "$pid" || fail "the container's process ($pid) does not run"
running() { engine_has "^lib-sleeper running$"; }

engine_pause
ping && fail "a paused engine answered /_ping"
kill -0 "$pid" || fail "the container's process ended while the engine was paused"
engine_resume
wait_until 30 ping
running || fail "after engine_resume the container is not listed as running"
ok "engine_pause stops the API (the container runs on); engine_resume brings it back"

engine_kill
ping && fail "a killed engine answered /_ping"
kill -0 "$pid" || fail "the container's process ended with the engine's SIGKILL"
engine_start
running || fail "after engine_kill and engine_start the container is not running: $(engine_containers)"
ok "engine_kill ends the API process, the container runs on, engine_start restarts on the same storage"

engine_stop
ping && fail "a stopped engine answered /_ping"
kill -0 "$pid" || fail "the container's process ended with the engine's SIGTERM"
engine_start
running || fail "after engine_stop and engine_start the container is not running: $(engine_containers)"
ok "engine_stop ends it, the container runs on, engine_start restarts it again"

# Left for the cleanup: the running container, under a stopped engine.
engine_kill
