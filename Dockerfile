# syntax=docker/dockerfile:1
#
# afilnet-sync: the daemon (`start`), the emulator and the migrations in one image.
#
# Runtime on Node 22, a supported LTS. Node 20 reached end of life on 2026-04-30 (see
# shared/design-notes.md); the code is developed and tested on Node 20.19+, and 22 meets the
# same floors (Prisma 7 wants ^20.19 || ^22.12; undici 7 wants >= 20.18.1).
ARG NODE_IMAGE=node:22-slim

# --- deps: production dependencies only, exactly as locked -----------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# tsx is a production dependency: the CLI runs the TypeScript sources directly, no build step.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
# Owned by root and not writable by the process: the app never writes to its own directory
# (tsx caches under /tmp).
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY prisma ./prisma
COPY src ./src
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
