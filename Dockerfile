# One image for the three apps and the example handler service; the compose file picks the command.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY libs/sdk/package.json libs/sdk/tsconfig.json libs/sdk/
COPY libs/sdk/src libs/sdk/src
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# Heap bounds for every process of the image (docs/operations.md, "Memory"). Without them V8 lets
# garbage grow towards a quarter of the host's memory before collecting it (invoker 312 MiB RSS in
# the benchmark, 191 with them), at the price of more CPU spent collecting. Override NODE_OPTIONS
# to change them.
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=8"
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/libs/sdk libs/sdk
COPY --from=build /app/dist dist
COPY package.json ./
USER node
CMD ["node", "dist/apps/admin-api/src/main.js"]
