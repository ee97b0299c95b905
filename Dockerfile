# Multi-stage build: compile with the dev toolchain, run with production dependencies only.
FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY profiles ./profiles
RUN npx tsc -p tsconfig.json && npm prune --omit=dev
# The slim copy of the R4 definitions (src/fhir/definition-cache.ts), made now: at run time node_modules is read-only.
RUN node -e "require('./dist/src/fhir/definitions').loadBaseDefinitions()"

FROM node:22-bookworm-slim
ENV NODE_ENV=production PORT=8080 BASE_PATH=/fhir DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/profiles ./profiles
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
CMD ["node", "dist/src/main.js"]
