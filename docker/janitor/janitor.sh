#!/bin/sh
# gocd-agent-scaler janitor: runs beside a socket-mode agent (same ECS task, host Docker socket mounted) and, when
# the task stops (SIGTERM), removes every container the agent's job started through the socket. ECS stops only the
# containers it created; siblings started through the socket would otherwise outlive the task.
#
# Attribution: the containers the engine created after the agent container (`since=<agent>`, the engine's own
# order), minus those labelled com.amazonaws.ecs.* (managed by ECS) or gocd-agent-scaler.* (the scaler's own).
# Sound because the scaler places at most one socket-mode agent per host (ECS distinctInstance).
#
# Environment:
#   JANITOR_AGENT_CONTAINER       id or name of the agent container (skips the ECS lookup; for tests, non-ECS hosts)
#   JANITOR_AGENT_CONTAINER_NAME  the agent's container name in the task definition (default: agent)
#   ECS_CONTAINER_METADATA_URI_V4 set by ECS; its /task document names this task's ARN
#   JANITOR_STOP_SECONDS          SIGTERM-to-SIGKILL grace for each child (default: 3)
set -u

AGENT_NAME="${JANITOR_AGENT_CONTAINER_NAME:-agent}"
STOP_SECONDS="${JANITOR_STOP_SECONDS:-3}"
AGENT=""

log() { echo "janitor: $*" >&2; }

# The agent container's id: given directly, or the container of this ECS task named $AGENT_NAME.
find_agent() {
  if [ -n "${JANITOR_AGENT_CONTAINER:-}" ]; then
    docker inspect --format '{{.Id}}' "$JANITOR_AGENT_CONTAINER" 2>/dev/null
    return
  fi
  if [ -z "${ECS_CONTAINER_METADATA_URI_V4:-}" ]; then
    log "neither JANITOR_AGENT_CONTAINER nor ECS_CONTAINER_METADATA_URI_V4 is set"
    return
  fi
  task_arn=$(wget -qO- -T 5 "$ECS_CONTAINER_METADATA_URI_V4/task" 2>/dev/null |
    grep -o '"TaskARN" *: *"[^"]*"' | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/')
  if [ -z "$task_arn" ]; then
    log "could not read TaskARN from $ECS_CONTAINER_METADATA_URI_V4/task"
    return
  fi
  docker ps -aq --no-trunc \
    --filter "label=com.amazonaws.ecs.task-arn=$task_arn" \
    --filter "label=com.amazonaws.ecs.container-name=$AGENT_NAME" | head -n 1
}

# Ids of the agent's children: created after it, not managed by ECS or the scaler, not this janitor.
children() {
  self="${HOSTNAME:-}"
  docker ps -a --no-trunc --filter "since=$1" --format '{{.ID}} {{.Labels}}' | while read -r id labels; do
    case ",$labels" in
      *,com.amazonaws.ecs.* | *,gocd-agent-scaler.*) continue ;;
    esac
    [ "$id" != "$1" ] || continue
    if [ -n "$self" ]; then
      case "$id" in "$self"*) continue ;; esac
    fi
    echo "$id"
  done
}

# Stops (short grace: busybox-style sleep ignores SIGTERM) and force-removes the given containers in parallel.
remove_all() {
  for id in "$@"; do
    (docker stop -t "$STOP_SECONDS" "$id" >/dev/null 2>&1; docker rm -f -v "$id" >/dev/null 2>&1 || true) &
  done
  wait
}

cleanup() {
  [ -n "$AGENT" ] || AGENT=$(find_agent)
  if [ -z "$AGENT" ]; then
    log "agent container not found; nothing removed"
    return
  fi
  # Two passes: the job may start a container while the first pass is stopping the others.
  for pass in 1 2; do
    ids=$(children "$AGENT")
    [ -n "$ids" ] || break
    # shellcheck disable=SC2086
    set -- $ids
    log "pass $pass: removing $# container(s) started through the socket: $*"
    remove_all "$@"
  done
}

on_term() {
  cleanup
  log "done"
  exit 0
}

trap on_term TERM INT
AGENT=$(find_agent)
if [ -n "$AGENT" ]; then log "watching agent container $AGENT"; else log "agent container not found yet; will look again at SIGTERM"; fi
# Sleep in the background so the trap runs as soon as SIGTERM arrives.
while :; do
  sleep 3600 &
  wait $!
done
