# Sourced by the agent images' entrypoints (POSIX sh). They start as root, do what needs root, then run the GoCD
# agent image's own entrypoint as the agent user, the way the base image would have run it.
#
#   GOCD_AGENT_USER        the agent's user (default `go`: GoCD's agent images run as go, uid 1000, primary group root)
#   GOCD_AGENT_ENTRYPOINT  the base image's entrypoint (default /docker-entrypoint.sh, GoCD's; it turns the GO_EA_*
#                          variables into the agent's autoregister.properties and starts the agent)

GOCD_AGENT_USER="${GOCD_AGENT_USER:-go}"
GOCD_AGENT_ENTRYPOINT="${GOCD_AGENT_ENTRYPOINT:-/docker-entrypoint.sh}"

say() { echo "gocd-agent-scaler: $*" >&2; }

# Field $1 of the agent user's /etc/passwd line (3 uid, 4 gid, 6 home).
agent_passwd_field() {
  awk -F: -v u="$GOCD_AGENT_USER" -v f="$1" '$1 == u { print $f; exit }' /etc/passwd
}

# The agent's groups, comma-separated: its own (/etc/group), every supplementary group this container was given
# (`docker run --group-add`, which the Docker backend uses for a socket's group) and the extra gids in "$@".
agent_groups() {
  {
    id -G "$GOCD_AGENT_USER" | tr ' ' '\n'
    id -G | tr ' ' '\n' | grep -vx 0
    for g in "$@"; do echo "$g"; done
  } | awk 'NF && !seen[$1]++' | paste -sd, -
}

# Replaces this process with "$@" run as the agent user, with its groups plus the extra gids in AGENT_EXTRA_GIDS
# (space-separated). Environment is kept (the GO_EA_* variables must reach the base entrypoint); HOME, USER and
# LOGNAME become the agent user's. Inheritable capabilities are dropped; a uid change clears the others.
exec_as_agent() {
  uid=$(agent_passwd_field 3)
  gid=$(agent_passwd_field 4)
  if [ -z "$uid" ] || [ -z "$gid" ]; then
    say "user ${GOCD_AGENT_USER} is not in /etc/passwd (set GOCD_AGENT_USER to the base image's agent user)"
    exit 1
  fi
  # shellcheck disable=SC2086
  groups=$(agent_groups ${AGENT_EXTRA_GIDS:-})
  HOME=$(agent_passwd_field 6)
  USER="$GOCD_AGENT_USER"
  LOGNAME="$GOCD_AGENT_USER"
  export HOME USER LOGNAME
  setpriv=$(setpriv_path) || {
    say "util-linux setpriv not found (busybox's applet cannot change uid); rebuild the image from its Dockerfile"
    exit 1
  }
  exec "$setpriv" --reuid="$uid" --regid="$gid" --groups="$groups" --inh-caps=-all -- "$@"
}

# util-linux's setpriv, by path: busybox has an applet of that name without --reuid, and a busybox shell may run its
# applets in preference to PATH.
setpriv_path() (
  IFS=:
  for d in $PATH; do
    if [ -x "$d/setpriv" ] && "$d/setpriv" --help 2>&1 | grep -q -- '--reuid'; then
      echo "$d/setpriv"
      exit 0
    fi
  done
  exit 1
)

# The unix socket a Docker client in this container talks to: $DOCKER_HOST's path, or the CLI's default.
docker_socket_path() {
  case "${DOCKER_HOST:-}" in
    '') echo /var/run/docker.sock ;;
    unix://*) echo "${DOCKER_HOST#unix://}" ;;
    *) ;;
  esac
}
