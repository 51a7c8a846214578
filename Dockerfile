# lockstep node image.
#   docker build -t lockstep .
#   docker run lockstep serve --id n1 --api n1:7001 --tls-cert ... (or use docker-compose.yml;
#   a node on a non-loopback address needs TLS, or --insecure)
# Ports: the API on LOCKSTEP_API's port (7001.. by convention, publish it),
# the peer channel on LOCKSTEP_PEER's port (7101.., keep it on the internal network).
# Data: /data (mount a named volume; Raft log and snapshots live there, losing it
# means the node must rejoin under a new id).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY packages/client/package.json packages/client/tsconfig.json packages/client/tsconfig.build.json ./packages/client/
COPY packages/client/src ./packages/client/src
COPY src ./src
COPY scripts/bin-mode.mjs ./scripts/
# `npm ci` runs `prepare`, which compiles the SDK workspace (packages/client)
# and then src/ to dist/.
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The operator console's page and modules (GET /ui/), served as they are.
COPY console ./console
# node_modules/lockstep-client is the workspace's symlink to packages/client.
COPY --from=build /app/packages/client/package.json ./packages/client/
COPY --from=build /app/packages/client/dist ./packages/client/dist
# /certs: where compose's one-shot `certs` service writes the cluster's certificates.
RUN mkdir -p /data /certs && chown node:node /data /certs
USER node
VOLUME ["/data"]
ENV LOCKSTEP_DATA=/data
EXPOSE 7001 7101
# Ready = this node knows a leader and has applied what it knows committed (GET /readyz).
# No curl in the slim image: Node does the probe, over HTTPS with the cluster CA
# (and the node's own certificate, for --tls-client-ca) when TLS is on.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "const e=process.env,f=require('fs'),t=!!e.LOCKSTEP_TLS_CA;require(t?'https':'http').get((t?'https://':'http://')+(e.LOCKSTEP_API||'127.0.0.1:7001')+'/readyz',t?{ca:f.readFileSync(e.LOCKSTEP_TLS_CA),cert:f.readFileSync(e.LOCKSTEP_TLS_CERT),key:f.readFileSync(e.LOCKSTEP_TLS_KEY)}:{},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
