# syntax=docker/dockerfile:1
# fal-gateway image: Node 22 LTS ("Jod", supported until 2027-04-30), pinned to an exact release so a
# rebuild is the same runtime; bump NODE_VERSION on purpose (the code and tests also run on Node 20).
# Not Node 24 yet: better-sqlite3 12.x aborts the process on Node 24 (SIGABRT in Statement::~Statement,
# "RemoveEnvironmentCleanupHook: (env) != nullptr"), seen here at start-up and exit with SQLite on
# 24.21.0; its fix is better-sqlite3 13, which needs Node >= 22 (so Node 20 support goes with it).
ARG NODE_VERSION=22.23.5

# Build stage: full install (native better-sqlite3 build needs python3/make/g++), compile TypeScript.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
RUN npm run build && npm prune --omit=dev

# Runtime stage: production dependencies and compiled output only, as the image's non-root `node`
# user (uid 1000). Defaults make `docker run -e FAL_KEY=… -e ADMIN_TOKEN=… -p 8787:8787 IMAGE`
# work: listen on every interface, SQLite on the /data volume (owned by `node`, so the database
# file can be created there).
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8787 DATABASE_URL=sqlite:/data/gateway.db
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
USER node
VOLUME ["/data"]
EXPOSE 8787
# Readiness, not liveness: unhealthy while the database is unreachable or while shutting down.
# Speaks https when TLS_CERT_FILE is set (the certificate is for the public name, so not verified here).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["node", "-e", "const s=process.env.TLS_CERT_FILE?'https':'http';const m=require(s);m.get({host:'127.0.0.1',port:process.env.PORT||8787,path:'/readyz',rejectUnauthorized:false,timeout:2500},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]
# node directly (exec form, not npm or a shell) so SIGTERM reaches the process and shutdown is graceful.
CMD ["node", "dist/server.js"]
