# binding.gyp: builds the raw-socket addon (raw_socket.cc) into build/Release/mptcp_raw.node.
# Run by build.sh during `npm ci` (the package's "install" script); node-addon-api supplies
# the C++ wrapper headers, Node's own headers (nodedir) the rest. Linux only.
{
  'targets': [
    {
      'target_name': 'mptcp_raw',
      'sources': ['raw_socket.cc'],
      'dependencies': ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      'defines': ['NAPI_VERSION=8', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags_cc': ['-std=c++17', '-Wall', '-Wextra', '-O2'],
    },
  ],
}
