# entra-wp-sync as a container: `docker run … ghcr.io/OWNER/entra-wp-sync run -c /config/jobs.yaml`
# Build stage: install dependencies and bundle the CLI into one file.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
RUN node scripts/build.ts

# Runtime: Node 24 and the bundle only; no npm, no sources, a numeric non-root user.
FROM node:24-bookworm-slim
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
WORKDIR /app
COPY --from=build /src/dist/cli.js /app/cli.js
ENV NODE_ENV=production
# Checkpoints (state.directory) and reports go to mounted volumes owned by this user.
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["node", "/app/cli.js"]
CMD ["run", "-c", "/config/jobs.yaml"]
