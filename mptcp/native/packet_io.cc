// packet_io.cc: placeholder for the lab's AF_PACKET addon (issue 8 fills it in).
#include <napi.h>
static Napi::Object Init(Napi::Env, Napi::Object exports) { return exports; }
NODE_API_MODULE(mptcp_packet, Init)
