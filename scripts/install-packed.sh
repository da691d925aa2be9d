#!/bin/sh
# Installs a packed x1deploy (npm pack's tarball) into DEST with its production dependencies at the
# lockfile's exact versions, the way the image does (Dockerfile) and the package test checks:
#   scripts/install-packed.sh x1deploy-0.1.0.tgz package-lock.json /opt/x1deploy
# The result runs as `node DEST/dist/cli/x1deploy.cjs`, from a read-only filesystem.
set -eu
tarball=$1
lockfile=$2
dest=$3
mkdir -p "$dest"
tar -xzf "$tarball" -C "$dest" --strip-components=1
cp "$lockfile" "$dest/package-lock.json"
# --ignore-scripts: dist/ is already bundled, and "prepare" would want the TypeScript sources.
(cd "$dest" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
