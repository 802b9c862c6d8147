# gocd-agent-docker-cli: a GoCD agent image plus the docker CLI, for `docker_mode: sidecar` and `docker_mode: socket`.
#   docker build -f docker/agent/docker-cli.Dockerfile -t <registry>/gocd-agent-docker-cli:<version> docker/agent
# BASE is any GoCD agent image (its entrypoint and agent user are kept); DOCKER_CLI_IMAGE supplies the static docker
# CLI and its buildx/compose plugins (docker:<n>-cli keeps them in /usr/local/bin and /usr/local/libexec/docker).
# See docs/agent-images.md.
ARG BASE=gocd/gocd-agent-debian-12:v25.4.0
ARG DOCKER_CLI_IMAGE=docker:28-cli
FROM ${DOCKER_CLI_IMAGE} AS docker-cli

FROM ${BASE}
LABEL org.opencontainers.image.title="gocd-agent-docker-cli" \
      org.opencontainers.image.description="GoCD agent with the docker CLI (gocd-agent-scaler sidecar and socket modes)"
# The entrypoint starts as root only to give the agent user the socket's group, then runs the base's entrypoint as it.
USER root
COPY --from=docker-cli /usr/local/bin/docker /usr/local/bin/docker
COPY --from=docker-cli /usr/local/libexec/docker/cli-plugins/ /usr/local/libexec/docker/cli-plugins/
COPY bin/agent-user.sh /usr/local/lib/gocd-agent-scaler/agent-user.sh
COPY bin/install-prerequisites bin/gocd-agent-docker-cli /usr/local/bin/
RUN chmod 0755 /usr/local/bin/install-prerequisites /usr/local/bin/gocd-agent-docker-cli \
    && install-prerequisites setpriv \
    && docker --version
ENV GOCD_AGENT_USER=go \
    GOCD_AGENT_ENTRYPOINT=/docker-entrypoint.sh
ENTRYPOINT ["/usr/local/bin/gocd-agent-docker-cli"]
