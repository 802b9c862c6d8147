# syntax=docker/dockerfile:1
# gocd-agent-scaler as a long-running process (the alternative to the Lambda; infra/ can run it as an ECS service).
#   docker build -t gocd-agent-scaler .
#   docker run -p 8080:8080 -e SCALER_FORWARDER_TOKEN=... -v /path/scaler.yaml:/etc/scaler.yaml \
#     -e SCALER_CONFIG=/etc/scaler.yaml gocd-agent-scaler
# For the Docker backend, mount the engine socket and add its group: -v /var/run/docker.sock:/var/run/docker.sock
#   --group-add "$(stat -c %g /var/run/docker.sock)"

ARG NODE_IMAGE=node:24-bookworm-slim

# Build: compile TypeScript with the dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional: the optional dependencies are the pinned Node binaries for `npm start` on a machine whose own
# Node is older (the image brings Node 24) and native extras the service does not need. --workspaces=false: the
# infra/ workspace (the AWS CDK app) is not part of the service, so neither stage installs the CDK.
RUN npm ci --omit=optional --workspaces=false --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: production dependencies and the compiled service only, as the unprivileged `node` user.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --workspaces=false --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
# Route schemas are read from openapi.yaml at start-up (found by walking up from dist/src/http).
COPY openapi.yaml ./
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main/server.js"]
