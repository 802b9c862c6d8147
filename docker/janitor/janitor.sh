#!/bin/sh
# gocd-agent-scaler janitor: runs beside a socket-mode agent in the same ECS task, with the host's Docker socket
# mounted. A Docker client cannot label what it creates, so the containers a job started through the socket are
# attributed by the engine's own creation order: every container created `since` the agent container, minus the
# ones ECS manages (com.amazonaws.ecs.* labels: this task's and other tasks' containers) and the scaler's own
# (gocd-agent-scaler.* labels). One socket-mode agent per host (ECS distinctInstance) keeps that unambiguous.
# On SIGTERM (ECS stopping the task: job done, reaped, or the essential agent container exited) it force-removes
# those containers in parallel and exits 0.
#
# Environment:
#   JANITOR_AGENT_CONTAINER        the agent container's id or name (bypasses the ECS lookup; used by tests)
#   JANITOR_AGENT_CONTAINER_NAME   the agent's container name in the task definition (default: agent)
#   ECS_CONTAINER_METADATA_URI_V4  set by the ECS agent; `<uri>/task` names this task's ARN
#   JANITOR_STOP_TIMEOUT           seconds each child gets between SIGTERM and SIGKILL (default 2)
set -u

AGENT_NAME="${JANITOR_AGENT_CONTAINER_NAME:-agent}"
STOP_TIMEOUT="${JANITOR_STOP_TIMEOUT:-2}"
agent_id=""

log() { echo "janitor: $*" >&2; }

# The agent container's full id, or nothing when it cannot be found (yet).
find_agent() {
  if [ -n "${JANITOR_AGENT_CONTAINER:-}" ]; then
    docker inspect --format '{{.Id}}' "$JANITOR_AGENT_CONTAINER" 2>/dev/null
    return
  fi
  if [ -z "${ECS_CONTAINER_METADATA_URI_V4:-}" ]; then
    log "neither JANITOR_AGENT_CONTAINER nor ECS_CONTAINER_METADATA_URI_V4 is set"
    return
  fi
  # `timeout`, not `wget -T`: bounded everywhere (Debian busybox-static crashes on -T), so SIGTERM is never stuck here.
  task_arn=$(timeout 5 wget -qO- "${ECS_CONTAINER_METADATA_URI_V4}/task" 2>/dev/null |
    sed -n 's/.*"TaskARN"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' | head -n 1)
  if [ -z "$task_arn" ]; then
    log "could not read the task ARN from ${ECS_CONTAINER_METADATA_URI_V4}/task"
    return
  fi
  docker ps -aq --no-trunc \
    --filter "label=com.amazonaws.ecs.task-arn=${task_arn}" \
    --filter "label=com.amazonaws.ecs.container-name=${AGENT_NAME}" | head -n 1
}

# Ids of the containers created since the agent that carry no ECS or scaler label.
children() {
  ids=$(docker ps -aq --no-trunc --filter "since=$1") || return 1
  [ -n "$ids" ] || return 0
  # One inspect for all: each line is the id followed by the container's label keys (never values).
  # shellcheck disable=SC2086
  docker inspect --format '{{.Id}}{{range $k, $v := .Config.Labels}} {{$k}}{{end}}' $ids 2>/dev/null |
    awk -v agent="$1" -v self="${HOSTNAME:-}" '{
      if ($1 == agent) next
      # This janitor itself, when it runs without ECS labels (its hostname is its short container id by default).
      if (self != "" && index($1, self) == 1) next
      for (i = 2; i <= NF; i++) if (index($i, "com.amazonaws.ecs.") == 1 || index($i, "gocd-agent-scaler.") == 1) next
      print $1
    }'
}

# Stops (short timeout: busybox-style sleep ignores SIGTERM) and force-removes the given containers in parallel.
remove_all() {
  pids=""
  for id in "$@"; do
    (docker stop -t "$STOP_TIMEOUT" "$id" >/dev/null 2>&1; docker rm -f -v "$id" >/dev/null 2>&1) &
    pids="$pids $!"
  done
  # Only these: a bare `wait` would also wait for the idle sleep below.
  # shellcheck disable=SC2086
  [ -z "$pids" ] || wait $pids
}

cleanup() {
  trap '' TERM INT
  [ -z "${sleeper:-}" ] || kill "$sleeper" 2>/dev/null
  [ -n "$agent_id" ] || agent_id=$(find_agent)
  if [ -z "$agent_id" ]; then
    log "agent container not found; nothing to clean up"
    exit 0
  fi
  first=$(children "$agent_id")
  # shellcheck disable=SC2086
  remove_all $first
  # A second sweep catches containers the job started while the first one ran.
  late=$(children "$agent_id")
  # shellcheck disable=SC2086
  remove_all $late
  count=$(printf '%s\n%s\n' "$first" "$late" | grep -c . || true)
  log "removed ${count} container(s) started through the socket since agent ${agent_id}"
  exit 0
}

trap cleanup TERM INT

# Learn the agent's id early (the agent container may be created after this one); SIGTERM interrupts the waits.
tries=0
while [ -z "$agent_id" ] && [ "$tries" -lt 60 ]; do
  agent_id=$(find_agent)
  [ -n "$agent_id" ] && break
  tries=$((tries + 1))
  sleep 1 &
  sleeper=$!
  wait "$sleeper"
done
if [ -n "$agent_id" ]; then log "watching agent ${agent_id}"; else log "agent not found yet; will look again on SIGTERM"; fi

while :; do
  sleep 3600 &
  sleeper=$!
  wait "$sleeper"
done
