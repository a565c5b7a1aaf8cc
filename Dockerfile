# yjs-cluster-server container image (docs/deploy.md).
#
#   docker build -t yjs-cluster-server .
#   docker run --init -p 1234:1234 -v yjs-data:/data -e AUTH_SECRET=... yjs-cluster-server
#
# BASE is any image with Node >= 20 (and npm in the build stage) on glibc; the default is
# the official one. .ci/image builds with a Debian minbase + Node base instead, because no
# image registry is reachable there.
ARG BASE=node:20-bookworm-slim

# --- build: dev dependencies, compile, pack -------------------------------------------
FROM ${BASE} AS build
WORKDIR /src
# Dependencies first: this layer is reused until the lockfile changes. Scripts are skipped
# here (prepare needs the sources, copied below; native modules ship prebuilt binaries).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json README.md ./
COPY docs ./docs
COPY src ./src
# The runtime gets exactly what `npm pack` ships (files in package.json), installed with
# production dependencies only, pinned by the lockfile and taken from the npm cache filled
# above: no second download, no dev dependency, no TypeScript at run time.
RUN npm run build \
 && mkdir -p /tmp/pack \
 && npm pack --ignore-scripts --pack-destination /tmp/pack \
 && mkdir /app \
 && tar -xzf /tmp/pack/*.tgz -C /app --strip-components=1 \
 && cp package-lock.json /app/ \
 && cd /app \
 && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund

# --- runtime --------------------------------------------------------------------------
FROM ${BASE} AS runtime
# GLIBC_TUNABLES: glibc (>= 2.35) asks the kernel for transparent huge pages for what malloc
# maps, which is where Node's big buffers live (a big doc's updates, snapshots, LevelDB
# values). Touching fresh 4 KiB pages cost ~5 ms per MiB on the 2-core bench VM, 0.2 ms with
# huge pages: a 50 MB copy 210-550 ms -> 8-83 ms, all of it on the event loop
# (docs/architecture.md "Big and idle documents"). Ignored by older glibc and where THP is off.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=1234 \
    DATA_DIR=/data \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1
# A non-root user: `node` (uid 1000) exists in the official images; bases without it get
# one written directly (minimal bases have no useradd).
RUN if ! id node >/dev/null 2>&1; then \
      echo 'node:x:1000:1000:node:/home/node:/usr/sbin/nologin' >> /etc/passwd \
      && echo 'node:x:1000:' >> /etc/group \
      && mkdir -p /home/node && chown 1000:1000 /home/node; \
    fi \
 && mkdir -p /data && chown 1000:1000 /data
# Owned by root, so the server cannot rewrite its own code.
COPY --from=build /app /app
VOLUME ["/data"]
EXPOSE 1234
USER node
WORKDIR /home/node
# /healthz on loopback: HOST=0.0.0.0 listens there too (set HOST to an address that
# includes loopback, or override this check).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||1234)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# node itself, no npm and no shell in between, so SIGTERM reaches the server and drains it
# (1012 to clients, flush, exit 0). It handles SIGTERM/SIGINT itself; `--init` (or
# `init: true` in compose) adds zombie reaping on top.
STOPSIGNAL SIGTERM
CMD ["node", "/app/dist/cli/main.js", "serve"]
