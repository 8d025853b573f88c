// kernel_mptcp.cc: the kernel-MPTCP socket addon for the proxy's kernel transport. It owns one
// thing Node cannot do by itself: create a socket with protocol IPPROTO_MPTCP (262, RFC 8684
// in the Linux kernel). The fd is handed to Node (net.Server.listen({fd}) or
// new net.Socket({fd}).connect), which does all I/O; nothing here touches the event loop.
//
//   openMptcp(family: 4 | 6, address: string | null, port: number, reuseAddress: boolean): fd
//     socket(AF_INET/AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_MPTCP),
//     SO_REUSEADDR when asked, IPV6_V6ONLY for IPv6 listeners (one family per socket), and
//     bind() when `address` is not null. Throws an Error with `code` (errno name), `errno` and
//     `syscall` naming the failed step.
//   socketProtocol(fd): number  getsockopt(SO_PROTOCOL): 262 for an MPTCP socket.
//   closeFd(fd)                 close(2), for an fd that never reached Node.
#include <napi.h>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

namespace {

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  std::string msg = std::string(syscall) + ": " + strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  const char* name = nullptr;
  switch (err) {
    case EPROTONOSUPPORT: name = "EPROTONOSUPPORT"; break;
    case EAFNOSUPPORT: name = "EAFNOSUPPORT"; break;
    case EADDRINUSE: name = "EADDRINUSE"; break;
    case EADDRNOTAVAIL: name = "EADDRNOTAVAIL"; break;
    case EACCES: name = "EACCES"; break;
    case EPERM: name = "EPERM"; break;
    case EINVAL: name = "EINVAL"; break;
    case EMFILE: name = "EMFILE"; break;
    case ENFILE: name = "ENFILE"; break;
    case ENOBUFS: name = "ENOBUFS"; break;
    case ENOMEM: name = "ENOMEM"; break;
    case EBADF: name = "EBADF"; break;
    case ENOTSOCK: name = "ENOTSOCK"; break;
    default: break;
  }
  if (name != nullptr) e.Set("code", Napi::String::New(env, name));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

Napi::Value OpenMptcp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !(info[1].IsString() || info[1].IsNull()) || !info[2].IsNumber() ||
      !info[3].IsBoolean()) {
    throw Napi::TypeError::New(env, "openMptcp(family: 4 | 6, address: string | null, port: number, reuseAddress: boolean)");
  }
  const int family = info[0].As<Napi::Number>().Int32Value();
  if (family != 4 && family != 6) throw Napi::TypeError::New(env, "family must be 4 or 6");
  const int port = info[2].As<Napi::Number>().Int32Value();
  if (port < 0 || port > 65535) throw Napi::RangeError::New(env, "port must be 0..65535");
  const bool reuse = info[3].As<Napi::Boolean>().Value();

  sockaddr_storage ss{};
  socklen_t len = 0;
  const bool bindIt = info[1].IsString();
  if (bindIt) {
    const std::string address = info[1].As<Napi::String>().Utf8Value();
    if (family == 4) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      sin->sin_port = htons(static_cast<uint16_t>(port));
      if (inet_pton(AF_INET, address.c_str(), &sin->sin_addr) != 1) throw Napi::TypeError::New(env, "not an IPv4 address: " + address);
      len = sizeof(sockaddr_in);
    } else {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons(static_cast<uint16_t>(port));
      if (inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr) != 1) throw Napi::TypeError::New(env, "not an IPv6 address: " + address);
      len = sizeof(sockaddr_in6);
    }
  }

  const int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_MPTCP);
  if (fd < 0) throw ErrnoError(env, errno, "socket(IPPROTO_MPTCP)");
  const int one = 1;
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    const int err = errno;
    close(fd);
    throw ErrnoError(env, err, "setsockopt(SO_REUSEADDR)");
  }
  if (family == 6 && bindIt && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) {
    const int err = errno;
    close(fd);
    throw ErrnoError(env, err, "setsockopt(IPV6_V6ONLY)");
  }
  if (bindIt && bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const int err = errno;
    close(fd);
    throw ErrnoError(env, err, "bind");
  }
  return Napi::Number::New(env, fd);
}

Napi::Value SocketProtocol(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "socketProtocol(fd: number)");
  int proto = 0;
  socklen_t len = sizeof proto;
  if (getsockopt(info[0].As<Napi::Number>().Int32Value(), SOL_SOCKET, SO_PROTOCOL, &proto, &len) != 0) {
    throw ErrnoError(env, errno, "getsockopt(SO_PROTOCOL)");
  }
  return Napi::Number::New(env, proto);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "closeFd(fd: number)");
  close(info[0].As<Napi::Number>().Int32Value());
  return env.Undefined();
}

}  // namespace

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("openMptcp", Napi::Function::New(env, OpenMptcp));
  exports.Set("socketProtocol", Napi::Function::New(env, SocketProtocol));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("IPPROTO_MPTCP", Napi::Number::New(env, IPPROTO_MPTCP));
  return exports;
}

NODE_API_MODULE(mptcp_kernel, Init)
