# syntax=docker/dockerfile:1
# minipay's container image: the npm package (what `npm pack` makes, web pages included)
# installed with its production dependencies on Node 22, run as the unprivileged `node` user.
# `npm run test:package` runs the same steps outside Docker. How to run it: docs/deploy.md.

FROM node:22-bookworm-slim AS build
# better-sqlite3 compiles from source where no prebuilt binary matches the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund --ignore-scripts
COPY . .
# `npm pack` builds first (the package's prepare script: TypeScript and the web pages).
RUN npm pack --pack-destination /tmp && mv /tmp/minipay-*.tgz /tmp/minipay.tgz
WORKDIR /app
RUN npm install --omit=dev --no-audit --no-fund /tmp/minipay.tgz

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
  MINIPAY_HOST=0.0.0.0 \
  MINIPAY_PORT=8080 \
  MINIPAY_DATABASE_URL=sqlite:/data/minipay.sqlite
COPY --from=build /app /app
RUN mkdir /data && chown node:node /data
USER node
WORKDIR /data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.MINIPAY_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "/app/node_modules/minipay/bin/minipay.js"]
CMD ["start"]
