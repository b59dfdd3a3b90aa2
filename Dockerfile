# syntax=docker/dockerfile:1
#
# afilnet-sync: the daemon (`start`), the emulator and the migrations in one image.
#
# Node 22, the LTS line `engines`, CI and this image agree on. The image runs the compiled
# JavaScript in dist/ with production dependencies only: no TypeScript, no tsx, no Prisma (the
# daemon talks to Postgres through `pg`; Prisma's client is for the schema model's tests).
# test/docker-image.replay.test.ts replays these steps without Docker; keep them in its subset:
# FROM/ARG/WORKDIR/ENV/COPY [--from]/RUN [--mount=type=cache]/USER/EXPOSE/HEALTHCHECK/
# STOPSIGNAL/CMD.
ARG NODE_IMAGE=node:22-slim

# --- build: every dependency, then TypeScript compiled to dist/ -------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: compiling needs none (nor the generated Prisma client, which the daemon
# never imports), and the result does not depend on which npm the base image ships.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- deps: production dependencies only, exactly as locked -----------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# The project's postinstall generates the Prisma client only where the Prisma CLI is installed,
# so here it does nothing; msgpackr-extract's install script (allowed in package.json) keeps
# BullMQ's native MessagePack. The npm cache is a BuildKit cache mount, not part of the layer.
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund

# --- runtime ---------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
# Memory (bench/bulk-load.ts, 1,000,000 members in one statement, peak RSS 261–274 MiB without
# these): glibc's malloc keeps an arena per thread (V8's and libuv's) and V8 sizes its young
# generation for throughput. Two arenas and 4 MiB semi-spaces bound the daemon's RSS (≈ 220 MiB
# peak in the same run) for a few percent more CPU; docs/benchmarks.md §9 has the figures.
ENV MALLOC_ARENA_MAX=2
ENV NODE_OPTIONS="--enable-source-maps --max-semi-space-size=4"
# Owned by root and not writable by the process: the app never writes to its own directory.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY prisma/migrations ./prisma/migrations
COPY --from=build /app/dist ./dist
# The image's unprivileged user (uid 1000).
USER node
# The admin server (health, readiness, metrics, queue UI). Inside a container it must listen on
# 0.0.0.0 to be reachable, and the daemon refuses that without ADMIN_TOKEN: set both.
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.ADMIN_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains (running jobs finish, up to SHUTDOWN_TIMEOUT_MS); give `docker stop` longer.
STOPSIGNAL SIGTERM
CMD ["node", "bin/afilnet-sync.mjs", "start"]
