# syntax=docker/dockerfile:1
# The collector as a container: docker build -t maap-event-logger . && docker run -p 8181:8181 --env-file .env maap-event-logger
#
# Stage 1 builds the workspace exactly as the lockfile says and packs the collector with npm pack;
# stage 2 installs that tarball with production dependencies only, as `npm install` would for a user.
# test/pack.test.ts installs the same tarball the same way and runs this image's CMD.

FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json lerna.json ./
COPY collector collector
COPY transports transports
# npm ci runs the root `prepare` script: the TypeScript build and the web page bundle.
RUN npm ci --no-audit --no-fund \
 && mkdir /pack && npm pack --workspace @maap-event-logger/collector --ignore-scripts --pack-destination /pack

FROM node:20-slim
# glibc malloc: large buffers (tail reads, journal writes, query blocks) in mappings of their own, given back
# when freed, rather than in a heap that keeps what they leave (RSS grew under read load; README, Deployment).
# WORKER_COUNT > 1 workers get the same from the primary when these are unset.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8181 \
    LOG_DIR=/var/lib/maap-event-logger \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_ARENA_MAX=2 \
    PATH=/app/node_modules/.bin:$PATH
WORKDIR /app
COPY --from=build /pack /tmp/pack
RUN echo '{"name":"maap-event-logger-image","private":true}' > package.json \
 && npm install --omit=dev --no-audit --no-fund /tmp/pack/*.tgz \
 && rm -rf /tmp/pack /root/.npm \
 && mkdir -p "$LOG_DIR" && chown node:node "$LOG_DIR"
# The journal (the events acknowledged but not yet in MongoDB, and the local backup): keep it on a volume.
VOLUME ["/var/lib/maap-event-logger"]
USER node
EXPOSE 8181
# /health answers 200 while the process serves HTTP and never asks MongoDB (liveness). Node's fetch, as
# the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8181) + '/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, no shell or npm in between: SIGTERM from `docker stop` reaches node, which stops accepting,
# flushes for up to SHUTDOWN_TIMEOUT seconds and exits (docker stop waits 10 s by default: use
# --stop-timeout / stop_grace_period above SHUTDOWN_TIMEOUT).
CMD ["maap-collector"]
