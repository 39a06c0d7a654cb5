# The local stand-in for node:20-bookworm-slim (scripts/docker-base-images.sh): Debian bookworm
# with the Node.js installation of the machine that builds it (node, npm and corepack, copied into
# /usr/local as the public image has them) and the same user, node (uid 1000). Node trusts the
# certificate authorities this machine trusts, as npm does here: a registry reached through a
# TLS-inspecting proxy works from the image as from the machine.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY node/ /usr/local/
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN groupadd --gid 1000 node \
  && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
  && node --version && npm --version
CMD ["node"]
