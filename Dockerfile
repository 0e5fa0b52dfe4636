# PWS in a container: build with the dev toolchain, run on node:26-slim (the active LTS) under pm2-runtime.
#   docker build -t pws .
#   docker run -p 9000:9000 -v "$PWD/static:/app/static:ro" pws

FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:26-slim
# NODE_CLUSTER_SCHED_POLICY=none: pm2-runtime is the cluster primary, and with this its workers
# accept connections themselves instead of receiving each one from it (README, "Scheduling").
ENV NODE_ENV=production \
    NODE_CLUSTER_SCHED_POLICY=none \
    PORT=9000 \
    STATIC_DIR=/app/static \
    HEALTH_PATH=/healthz
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ecosystem.config.js ./
COPY static ./static
USER node
EXPOSE 9000
# The probe path answers 200 while serving and 503 while draining.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD node -e "require('http').get('http://127.0.0.1:'+(process.env.PORT||9000)+(process.env.HEALTH_PATH||'/healthz'),r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
# pm2-runtime keeps pm2 in the foreground (PID 1's job): cluster mode, graceful reloads, SIGTERM drains.
CMD ["node_modules/.bin/pm2-runtime", "ecosystem.config.js", "--env", "production"]
