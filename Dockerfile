# The aggregator image: Node 20 on Debian 12, the raw-socket addon built in, nftables and
# iproute2 for the userspace MPTCP transport (its RST guard). Run with host networking and
# the NET_RAW and NET_ADMIN capabilities (docker-compose.yml does); the configuration is
# mounted at /etc/mptcp-proxy/aggregator.yaml and the TLS state kept in /var/lib/mptcp-proxy.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY mptcp/native ./mptcp/native
RUN npm ci --ignore-scripts && sh mptcp/native/build.sh
COPY . .
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends nftables iproute2 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/mptcp/native/build/Release/*.node ./mptcp/native/build/Release/
COPY config ./config
VOLUME /var/lib/mptcp-proxy
ENTRYPOINT ["node", "dist/proxy/cli/main.js"]
CMD ["aggregator", "--config", "/etc/mptcp-proxy/aggregator.yaml"]
