#!/bin/sh
# gocd-agent-scaler janitor: the first container of an ECS socket-mode agent task, with the host's Docker socket
# mounted. It
#   1. claims the host's one socket slot: a container named gocd-agent-scaler-socket-slot, which the engine lets exist
#      once (the Docker backend claims the same name). While a previous socket agent on this host still holds it —
#      ECS's distinctInstance ignores tasks already desired STOPPED, so a new task can land beside one still stopping —
#      it waits; a claim whose keeper container has exited or is gone is stale: that holder's cleanup is finished here
#      and the claim removed. The agent container starts only once this one is healthy (`gocd-janitor health`).
#   2. serves the engine's API to the agent on a socket in a task volume ($JANITOR_PROXY_SOCKET, mode 0666): the host
#      socket is root:docker 0660 with a gid no agent image knows, and ECS cannot add groups to a container.
#   3. on SIGTERM (ECS stops it after the agent, which depends on it), removes the containers the job started: a Docker
#      client cannot label what it creates, so they are attributed by the engine's own creation order — every
#      container created after the agent container and before any later slot claim, minus those ECS manages
#      (com.amazonaws.ecs.* labels) and the scaler's own (gocd-agent-scaler.* labels); then releases the slot.
#
# Environment:
#   ECS_CONTAINER_METADATA_URI_V4  set by the ECS agent: `<uri>` names this container's id, `<uri>/task` its task ARN
#   JANITOR_AGENT_CONTAINER_NAME   the agent's container name in the task definition (default: agent)
#   JANITOR_PROXY_SOCKET           where to serve the engine's API for the agent (unset: no proxy)
#   JANITOR_STOP_TIMEOUT           seconds each child gets between SIGTERM and SIGKILL (default 2)
#   JANITOR_AGENT_CONTAINER        the agent container's id or name, instead of the ECS lookup (tests)
#   JANITOR_SELF                   this container's id or name, instead of the ECS lookup (tests)
set -u

AGENT_NAME="${JANITOR_AGENT_CONTAINER_NAME:-agent}"
STOP_TIMEOUT="${JANITOR_STOP_TIMEOUT:-2}"
PROXY="${JANITOR_PROXY_SOCKET:-}"
SLOT=gocd-agent-scaler-socket-slot
KEEPER_LABEL=gocd-agent-scaler.slot-keeper
STATE=/tmp/gocd-janitor.self
agent_id=""
self_id=""
task_arn=""
claimed=""
proxy_pid=""
sleeper=""

log() { echo "janitor: $*" >&2; }

# GET a task metadata path, bounded: `timeout`, not `wget -T` (Debian busybox-static crashes on -T), so SIGTERM is
# never stuck here.
metadata() { timeout 5 wget -qO- "${ECS_CONTAINER_METADATA_URI_V4}$1" 2>/dev/null; }
json_field() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" | head -n 1; }

# This container's full id and its task's ARN.
identify() {
  if [ -n "${JANITOR_SELF:-}" ]; then
    self_id=$(docker inspect --format '{{.Id}}' "$JANITOR_SELF" 2>/dev/null)
    return
  fi
  if [ -z "${ECS_CONTAINER_METADATA_URI_V4:-}" ]; then
    log "neither JANITOR_SELF nor ECS_CONTAINER_METADATA_URI_V4 is set"
    return
  fi
  self_id=$(metadata "" | json_field DockerId)
  task_arn=$(metadata /task | json_field TaskARN)
}

# The agent container's full id, or nothing when it cannot be found (yet).
find_agent() {
  if [ -n "${JANITOR_AGENT_CONTAINER:-}" ]; then
    docker inspect --format '{{.Id}}' "$JANITOR_AGENT_CONTAINER" 2>/dev/null
    return
  fi
  [ -n "$task_arn" ] || return 0
  agent_of_task "$task_arn"
}
agent_of_task() {
  docker ps -aq --no-trunc --filter "label=com.amazonaws.ecs.task-arn=$1" \
    --filter "label=com.amazonaws.ecs.container-name=${AGENT_NAME}" | head -n 1
}

# Ids of the containers created after agent $1 and before any slot claim kept by someone other than $2, that carry no
# ECS or scaler label. `docker ps` lists newest first; the claim that bounds the window is the oldest foreign one.
children() {
  ids=$(docker ps -aq --no-trunc --filter "since=$1") || return 1
  [ -n "$ids" ] || return 0
  # One inspect for all, in the listing's order: id|role|keeper|label keys (never values).
  # shellcheck disable=SC2086
  docker inspect --format \
    "{{.Id}}|{{index .Config.Labels \"gocd-agent-scaler.role\"}}|{{index .Config.Labels \"$KEEPER_LABEL\"}}|{{range \$k, \$v := .Config.Labels}}{{\$k}} {{end}}" \
    $ids 2>/dev/null |
    awk -F'|' -v agent="$1" -v keeper="$2" -v self="$self_id" '
      { line[NR] = $0 }
      END {
        for (i = NR; i >= 1; i--) {
          split(line[i], f, "|")
          if (f[2] == "socket-slot" && f[3] != keeper) break
          if (f[1] == agent || (self != "" && f[1] == self)) continue
          n = split(f[4], keys, " "); managed = 0
          for (k = 1; k <= n; k++) if (index(keys[k], "com.amazonaws.ecs.") == 1 || index(keys[k], "gocd-agent-scaler.") == 1) managed = 1
          if (!managed) print f[1]
        }
      }'
}

# Stops (short timeout: busybox-style sleep ignores SIGTERM) and force-removes the given containers in parallel.
remove_all() {
  pids=""
  for id in "$@"; do
    (docker stop -t "$STOP_TIMEOUT" "$id" >/dev/null 2>&1; docker rm -f -v "$id" >/dev/null 2>&1) &
    pids="$pids $!"
  done
  # Only these: a bare `wait` would also wait for the proxy.
  # shellcheck disable=SC2086
  [ -z "$pids" ] || wait $pids
}

# Removes agent $1's children (bounded by claims not kept by $2), twice: the second sweep catches late ones.
clean_after() {
  first=$(children "$1" "$2")
  # shellcheck disable=SC2086
  remove_all $first
  late=$(children "$1" "$2")
  # shellcheck disable=SC2086
  remove_all $late
  printf '%s\n%s\n' "$first" "$late" | grep -c . || true
}

slot_info() { docker inspect --format "{{.Id}} {{index .Config.Labels \"$KEEPER_LABEL\"}} {{index .Config.Labels \"gocd-agent-scaler.slot-holder\"}}" "$SLOT" 2>/dev/null; }

# 0 when this container keeps the slot.
holds_slot() {
  [ -n "$self_id" ] || return 1
  set -- $(slot_info)
  [ "${2:-}" = "$self_id" ]
}

# One claim attempt: 0 when claimed; otherwise a stale claim is recovered (and 1 returned, to try again at once) or
# a live holder waited for (1 after a pause).
try_claim() {
  image=$(docker inspect --format '{{.Image}}' "$self_id" 2>/dev/null) || return 1
  if docker create --name "$SLOT" --network none --entrypoint true \
    --label gocd-agent-scaler.role=socket-slot --label "$KEEPER_LABEL=$self_id" \
    --label "gocd-agent-scaler.slot-holder=${task_arn:-$self_id}" "$image" >/dev/null 2>&1; then
    holds_slot && return 0
  fi
  set -- $(slot_info)
  slot_id="${1:-}" keeper="${2:-}" holder="${3:-}"
  [ -n "$slot_id" ] || return 1
  state=$(docker inspect --format '{{.State.Status}}' "$keeper" 2>/dev/null)
  case "$state" in
  exited | dead | "")
    log "socket slot held by ${holder:-?} whose keeper is ${state:-gone}: finishing its cleanup"
    case "$holder" in arn:*)
      old_agent=$(agent_of_task "$holder")
      [ -z "$old_agent" ] || log "removed $(clean_after "$old_agent" "$keeper") container(s) left by ${holder}"
      ;;
    esac
    docker rm -f "$slot_id" >/dev/null 2>&1
    return 1
    ;;
  esac
  pause 1
  return 1
}

# Sleeps in the background, so SIGTERM interrupts the wait.
pause() {
  sleep "$1" &
  sleeper=$!
  wait "$sleeper"
  sleeper=""
}

cleanup() {
  trap '' TERM INT
  [ -z "$sleeper" ] || kill "$sleeper" 2>/dev/null
  [ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null
  if [ -z "$claimed" ]; then
    # A claim made just as SIGTERM arrived is released: this task's agent never started.
    holds_slot && docker rm -f "$SLOT" >/dev/null 2>&1
    log "stopped before this task's agent could start; nothing to clean up"
    exit 0
  fi
  [ -n "$agent_id" ] || agent_id=$(find_agent)
  if [ -n "$agent_id" ]; then
    count=$(clean_after "$agent_id" "$self_id")
    log "removed ${count} container(s) started through the socket since agent ${agent_id}"
  else
    log "agent container not found; nothing to clean up"
  fi
  # Released only now: the host's next socket agent starts after this job's containers are gone.
  holds_slot && docker rm -f "$SLOT" >/dev/null 2>&1
  log "released the socket slot"
  exit 0
}

if [ "${1:-}" = "health" ]; then
  # Healthy once this container holds the slot and (when asked for) the proxy socket is there.
  self_id=$(cat "$STATE" 2>/dev/null) || exit 1
  [ -z "$PROXY" ] || [ -S "$PROXY" ] || exit 1
  holds_slot
  exit $?
fi

trap cleanup TERM INT

tries=0
while [ -z "$self_id" ] && [ "$tries" -lt 30 ]; do
  identify
  [ -n "$self_id" ] && break
  tries=$((tries + 1))
  pause 1
done
if [ -z "$self_id" ]; then
  log "cannot tell this container's id; no socket slot, no cleanup"
  while :; do pause 3600; done
fi

until try_claim; do :; done
claimed=1
echo "$self_id" >"$STATE"
log "holding the socket slot for ${task_arn:-$self_id}"

if [ -n "$PROXY" ]; then
  rm -f "$PROXY"
  # -t: after the client half-closes (the docker CLI does once its request is sent), keep relaying the answer.
  socat -t 86400 "UNIX-LISTEN:${PROXY},fork,mode=0666" UNIX-CONNECT:/var/run/docker.sock &
  proxy_pid=$!
fi

# Learn the agent's id (it starts once this container is healthy); SIGTERM interrupts the waits.
tries=0
while [ -z "$agent_id" ] && [ "$tries" -lt 120 ]; do
  agent_id=$(find_agent)
  [ -n "$agent_id" ] && break
  tries=$((tries + 1))
  pause 1
done
if [ -n "$agent_id" ]; then log "watching agent ${agent_id}"; else log "agent not found yet; will look again on SIGTERM"; fi

while :; do pause 3600; done
