# gocd-agent-dind: a GoCD agent image that runs its own Docker daemon, for `docker_mode: privileged` (full privilege,
# or the `capabilities` form).
#   docker build -f docker/agent/dind.Dockerfile -t <registry>/gocd-agent-dind:<version> docker/agent
# BASE is any GoCD agent image (its entrypoint and agent user are kept); DOCKER_IMAGE supplies the static engine
# binaries (docker:<n>-dind keeps dockerd, containerd, runc, docker-init, docker-proxy and the CLI in /usr/local/bin).
# iptables (the nested bridge's NAT) comes from the base's package manager when the base lacks it.
# See docs/agent-images.md.
ARG BASE=gocd/gocd-agent-debian-12:v25.4.0
ARG DOCKER_IMAGE=docker:28-dind
FROM ${DOCKER_IMAGE} AS docker

FROM ${BASE}
LABEL org.opencontainers.image.title="gocd-agent-dind" \
      org.opencontainers.image.description="GoCD agent running its own dockerd (gocd-agent-scaler privileged mode)"
# dockerd needs root; the entrypoint runs the agent itself as the base's agent user.
USER root
COPY --from=docker /usr/local/bin/dockerd /usr/local/bin/containerd /usr/local/bin/containerd-shim-runc-v2 \
     /usr/local/bin/runc /usr/local/bin/docker-init /usr/local/bin/docker-proxy /usr/local/bin/docker /usr/local/bin/
COPY --from=docker /usr/local/libexec/docker/cli-plugins/ /usr/local/libexec/docker/cli-plugins/
COPY bin/agent-user.sh /usr/local/lib/gocd-agent-scaler/agent-user.sh
COPY bin/install-prerequisites bin/gocd-agent-dind /usr/local/bin/
RUN chmod 0755 /usr/local/bin/install-prerequisites /usr/local/bin/gocd-agent-dind \
    && install-prerequisites setpriv iptables mount \
    && dockerd --version && docker --version
# The daemon's images and containers live outside the container's own (overlay) filesystem, as in docker:dind.
VOLUME /var/lib/docker
# TINI_SUBREAPER: GoCD's entrypoint runs the agent under its own tini, which is not PID 1 here; as a subreaper it
# still reaps the agent's orphans.
ENV GOCD_AGENT_USER=go \
    GOCD_AGENT_ENTRYPOINT=/docker-entrypoint.sh \
    TINI_SUBREAPER=1
# docker-init (tini) reaps the daemon's orphans and passes SIGTERM to the entrypoint, which stops agent then dockerd.
ENTRYPOINT ["/usr/local/bin/docker-init", "--", "/usr/local/bin/gocd-agent-dind"]
