# syntax=docker/dockerfile:1
# The x1deploy image: the CLI as its entrypoint, for the in-cluster jobs (`build`, `reap`), `serve`
# and the pull request check (`verify`). The pods `x1deploy install` renders run it as uid 65532
# with a read-only root filesystem and an emptyDir at /tmp; so does the verify workflow.
#
#   docker build -t registry.example.com/x1deploy:0.1.0 \
#     --build-arg NODE_IMAGE=node:20.20.2-bookworm-slim@sha256:<digest> .
#
# Pin the base by digest as above, push, and put the pushed image's digest in x1deploy.yaml
# (jobs.image: registry.example.com/x1deploy:0.1.0@sha256:…); then run `x1deploy install`.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# Build: compile, pack exactly what `npm pack` ships (package.json "files"), and install that with
# its production dependencies at the lockfile's versions.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY src src
COPY charts-src charts-src
COPY imports imports
COPY templates templates
COPY scripts/install-packed.sh scripts/bundle-cli.mjs scripts/
# npm ci runs "prepare", which bundles the CLI into dist/cli/.
RUN npm ci --no-audit --no-fund \
 && npm pack --silent --pack-destination /tmp \
 && sh scripts/install-packed.sh /tmp/x1deploy-*.tgz package-lock.json /opt/x1deploy

# Run: no npm, no compilers; nothing is written outside /tmp (an emptyDir in the rendered pods).
FROM ${NODE_IMAGE}
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
COPY --from=build /opt/x1deploy /opt/x1deploy
ENV NODE_ENV=production \
    HOME=/tmp \
    X1DEPLOY_CACHE_DIR=/tmp/x1deploy-cache
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["node", "/opt/x1deploy/dist/cli/x1deploy.cjs"]
CMD ["--help"]
