# One image for the three apps and the example handler service; the compose file picks the command.
# NODE_IMAGE is the base image: the public one by default, or a local stand-in built by
# scripts/docker-base-images.sh where no image registry is reachable (docs/operations.md, "Docker").
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/sdk/package.json libs/sdk/tsconfig.json libs/sdk/
COPY libs/sdk/src libs/sdk/src
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# Each app's command carries its default node flags (scripts/node-flags.ts; the compose file sets
# them, and flags on the command line win over NODE_OPTIONS); in a container with a memory limit
# and no flag Node sizes its heap from that limit (docs/operations.md, "Memory").
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/libs/sdk libs/sdk
COPY --from=build /app/dist dist
COPY package.json ./
USER node
CMD ["node", "dist/apps/admin-api/src/main.js"]
