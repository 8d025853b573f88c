// kernel_mptcp.cc: placeholder for the kernel-MPTCP socket addon (issue 5 fills it in).
#include <napi.h>
static Napi::Object Init(Napi::Env, Napi::Object exports) { return exports; }
NODE_API_MODULE(mptcp_kernel, Init)
