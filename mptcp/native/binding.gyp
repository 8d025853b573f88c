# binding.gyp: builds the addons: raw sockets (raw_socket.cc -> build/Release/mptcp_raw.node),
# kernel MPTCP sockets for the proxy's kernel transport (kernel_mptcp.cc -> mptcp_kernel.node) and
# AF_PACKET I/O for the lab's link emulator (packet_io.cc -> mptcp_packet.node).
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
    {
      'target_name': 'mptcp_kernel',
      'sources': ['kernel_mptcp.cc'],
      'dependencies': ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      'defines': ['NAPI_VERSION=8', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags_cc': ['-std=c++17', '-Wall', '-Wextra', '-O2'],
    },
    {
      'target_name': 'mptcp_packet',
      'sources': ['packet_io.cc'],
      'dependencies': ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
      'defines': ['NAPI_VERSION=8', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags_cc': ['-std=c++17', '-Wall', '-Wextra', '-O2'],
    },
  ],
}
