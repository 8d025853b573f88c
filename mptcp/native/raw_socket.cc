/**
 * mptcp_raw: the smallest native layer the raw-socket driver (mptcp/driver) needs. It opens raw
 * IPPROTO_TCP sockets, moves batches of whole IP packets with recvmmsg/sendmmsg (one JS call per
 * batch) and reports readiness through a uv_poll handle on Node's event loop. Everything else
 * (the BPF program, routing, errno names and hints, retries) lives in TypeScript, in the style
 * of serialport's bindings-cpp. Used from the JS main thread only.
 *
 * Packet layout: TypeScript always sees full IP packets. IPv4 raw sockets deliver the IP header;
 * IPv6 raw sockets deliver only the transport header onwards, so recvBatch synthesizes a 40-byte
 * IPv6 header in front of the TCP segment (src from msg_name, dst from IPV6_PKTINFO, traffic
 * class from IPV6_TCLASS, hop limit from IPV6_HOPLIMIT, flow label 0, next header 6, no
 * extension headers). Both families send with HDRINCL: the packet we pass is the one on the wire.
 */
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <linux/filter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#ifndef IPV6_HDRINCL
#define IPV6_HDRINCL 36 /* Linux >= 4.5 */
#endif

namespace {

constexpr size_t kV6Header = 40;
constexpr size_t kCtrlSize = 128; /* room for the PKTINFO, HOPLIMIT and TCLASS cmsgs */

/** A JS Error carrying code (errno name), errno and the failed step as syscall. */
Napi::Error SysError(Napi::Env env, const std::string& step, int err) {
  const char* code = uv_err_name(-err);
  Napi::Error e = Napi::Error::New(env, step + ": " + code + ": " + strerror(err));
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, step));
  return e;
}

/** The data of a typed array of kind K with at least `need` elements. */
template <typename T, napi_typedarray_type K>
T* Array(const Napi::Value& v, size_t need, const char* what, size_t* bytes = nullptr) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != K || v.As<Napi::TypedArray>().ElementLength() < need)
    throw Napi::TypeError::New(v.Env(), std::string(what) + ": wrong typed array type or too short");
  auto a = v.As<Napi::TypedArrayOf<T>>();
  if (bytes != nullptr) *bytes = a.ByteLength();
  return a.Data();
}

int32_t I32(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number");
  return info[i].As<Napi::Number>().Int32Value();
}

struct PollState {
  napi_env env;
  Napi::FunctionReference callback;
  std::unique_ptr<Napi::AsyncContext> context;
  uv_poll_t handle;
};

struct Sock {
  int family;
  PollState* poll = nullptr;
};

/** mmsghdr array over `count` slots of `slot` bytes; data starts `skip` bytes into each slot. */
struct Batch {
  std::vector<mmsghdr> msgs;
  std::vector<iovec> iov;
  std::vector<sockaddr_in6> names; /* large enough for either family */
  std::vector<char> ctrl;
  Batch(uint8_t* buf, size_t slot, size_t count, size_t skip, bool ctrlToo)
      : msgs(count), iov(count), names(count), ctrl(ctrlToo ? count * kCtrlSize : 0) {
    for (size_t i = 0; i < count; i++) {
      iov[i] = {buf + i * slot + skip, slot - skip};
      memset(&names[i], 0, sizeof names[i]);
      msgs[i].msg_hdr = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &names[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in6);
      if (ctrlToo) {
        msgs[i].msg_hdr.msg_control = &ctrl[i * kCtrlSize];
        msgs[i].msg_hdr.msg_controllen = kCtrlSize;
      }
    }
  }
};

void OnPoll(uv_poll_t* h, int status, int events) {
  auto* s = static_cast<PollState*>(h->data);
  Napi::Env env(s->env);
  Napi::HandleScope scope(env);
  // On a poll error, report both directions: the next recv/send returns the error to JS.
  int ev = status < 0 ? (UV_READABLE | UV_WRITABLE) : events;
  try {
    s->callback.MakeCallback(env.Global(), {Napi::Number::New(env, ev)}, *s->context);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(s->env, e.Value());
  }
}

class RawAddon : public Napi::Addon<RawAddon> {
 public:
  RawAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {InstanceMethod("openRaw", &RawAddon::OpenRaw), InstanceMethod("recvBatch", &RawAddon::RecvBatch),
                          InstanceMethod("sendBatch", &RawAddon::SendBatch), InstanceMethod("startPolling", &RawAddon::StartPolling),
                          InstanceMethod("stopPolling", &RawAddon::StopPolling), InstanceMethod("close", &RawAddon::Close)});
  }

 private:
  std::unordered_map<int, Sock> socks_;

  Sock& Find(const Napi::CallbackInfo& info) {
    auto it = socks_.find(I32(info, 0));
    if (it == socks_.end()) throw Napi::Error::New(info.Env(), "raw socket: unknown or closed fd");
    return it->second;
  }

  /** openRaw(family, bindAddress, device|null, mark, bpfProgram, bufferBytes): fd */
  Napi::Value OpenRaw(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int family = I32(info, 0);
    size_t alen, flen;
    uint8_t* addr = Array<uint8_t, napi_uint8_array>(info[1], 0, "bindAddress", &alen);
    if ((family != 4 && family != 6) || alen != (family == 4 ? 4u : 16u))
      throw Napi::TypeError::New(env, "openRaw: family must be 4 or 6 with a 4- or 16-byte address");
    std::string dev = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "";
    uint32_t mark = static_cast<uint32_t>(I32(info, 3));
    uint8_t* filter = Array<uint8_t, napi_uint8_array>(info[4], 0, "bpfProgram", &flen);
    int bufBytes = I32(info, 5);
    if (flen == 0 || flen % sizeof(sock_filter) != 0 || flen / sizeof(sock_filter) > BPF_MAXINSNS)
      throw Napi::TypeError::New(env, "openRaw: bpfProgram must hold 1..4096 8-byte instructions");

    int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) throw SysError(env, "socket(SOCK_RAW)", errno);
    auto check = [&](int rc, const char* step) {
      if (rc == 0) return;
      int e = errno;
      ::close(fd);
      throw SysError(env, step, e);
    };
    int one = 1;
    // The filter first: the socket receives every TCP packet from creation on, so after
    // attaching it we drain whatever arrived before it.
    sock_fprog prog = {static_cast<unsigned short>(flen / sizeof(sock_filter)), reinterpret_cast<sock_filter*>(filter)};
    check(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog), "setsockopt(SO_ATTACH_FILTER)");
    char drain;
    while (recv(fd, &drain, 1, MSG_DONTWAIT | MSG_TRUNC) >= 0) {
    }
    if (family == 4) {
      check(setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof one), "setsockopt(IP_HDRINCL)");
    } else {
      check(setsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &one, sizeof one), "setsockopt(IPV6_HDRINCL)");
      check(setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one), "setsockopt(IPV6_RECVPKTINFO)");
      check(setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one), "setsockopt(IPV6_RECVHOPLIMIT)");
      check(setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof one), "setsockopt(IPV6_RECVTCLASS)");
    }
    if (!dev.empty())
      check(setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev.c_str(), dev.size() + 1), "setsockopt(SO_BINDTODEVICE)");
    if (mark != 0) check(setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark), "setsockopt(SO_MARK)");
    if (bufBytes > 0) { /* FORCE needs CAP_NET_ADMIN and passes rmem_max/wmem_max; else best effort */
      if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufBytes, sizeof bufBytes) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufBytes, sizeof bufBytes);
      if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufBytes, sizeof bufBytes) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufBytes, sizeof bufBytes);
    }
    sockaddr_in6 sa = {}; /* or a sockaddr_in in the same storage */
    if (family == 4) {
      auto* sa4 = reinterpret_cast<sockaddr_in*>(&sa);
      sa4->sin_family = AF_INET;
      memcpy(&sa4->sin_addr, addr, 4);
    } else {
      sa.sin6_family = AF_INET6;
      memcpy(&sa.sin6_addr, addr, 16);
      if (!dev.empty()) sa.sin6_scope_id = if_nametoindex(dev.c_str()); /* for link-local */
    }
    check(bind(fd, reinterpret_cast<sockaddr*>(&sa), family == 4 ? sizeof(sockaddr_in) : sizeof sa), "bind");
    socks_[fd] = Sock{family};
    return Napi::Number::New(env, fd);
  }

  /** recvBatch(fd, buf, slotSize, maxCount, lengths): count, or -errno (never EAGAIN). */
  Napi::Value RecvBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Sock& sock = Find(info);
    size_t blen, slot = I32(info, 2), max = I32(info, 3);
    uint8_t* buf = Array<uint8_t, napi_uint8_array>(info[1], 0, "buf", &blen);
    if (slot <= kV6Header || max == 0 || max > blen / slot) throw Napi::RangeError::New(env, "recvBatch: bad slot size or count");
    uint32_t* lengths = Array<uint32_t, napi_uint32_array>(info[4], max, "lengths");
    bool v6 = sock.family == 6;
    Batch b(buf, slot, max, v6 ? kV6Header : 0, v6);
    int n;
    do n = recvmmsg(I32(info, 0), b.msgs.data(), max, MSG_DONTWAIT, nullptr);
    while (n < 0 && errno == EINTR);
    if (n < 0) return Napi::Number::New(env, errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno);
    for (int i = 0; i < n; i++) {
      msghdr& m = b.msgs[i].msg_hdr;
      size_t len = b.msgs[i].msg_len;
      lengths[i] = 0; /* a packet larger than the slot is reported with length 0 */
      if (m.msg_flags & MSG_TRUNC) continue;
      if (v6) {
        uint8_t* p = buf + i * slot;
        int tclass = 0, hops = 64;
        memset(p, 0, kV6Header);
        for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
          if (c->cmsg_level != IPPROTO_IPV6) continue;
          if (c->cmsg_type == IPV6_PKTINFO) memcpy(p + 24, &reinterpret_cast<in6_pktinfo*>(CMSG_DATA(c))->ipi6_addr, 16);
          if (c->cmsg_type == IPV6_HOPLIMIT) memcpy(&hops, CMSG_DATA(c), sizeof hops);
          if (c->cmsg_type == IPV6_TCLASS) memcpy(&tclass, CMSG_DATA(c), sizeof tclass);
        }
        p[0] = 0x60 | ((tclass >> 4) & 0x0f);
        p[1] = (tclass & 0x0f) << 4;
        p[4] = len >> 8;
        p[5] = len & 0xff;
        p[6] = IPPROTO_TCP;
        p[7] = hops;
        memcpy(p + 8, &b.names[i].sin6_addr, 16);
        len += kV6Header;
      }
      lengths[i] = len;
    }
    return Napi::Number::New(env, n);
  }

  /**
   * sendBatch(fd, buf, slotSize, count, lengths, errors): packets consumed. errors[i] = 0 when
   * packet i left, else its errno (the packet is dropped). Stops early only on EAGAIN (socket
   * buffer full): the caller retries the rest when the socket is writable.
   */
  Napi::Value SendBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Sock& sock = Find(info);
    size_t blen, slot = I32(info, 2), count = I32(info, 3);
    uint8_t* buf = Array<uint8_t, napi_uint8_array>(info[1], 0, "buf", &blen);
    if (slot < kV6Header || count == 0 || count > blen / slot) throw Napi::RangeError::New(env, "sendBatch: bad slot size or count");
    uint32_t* lengths = Array<uint32_t, napi_uint32_array>(info[4], count, "lengths");
    int32_t* errors = Array<int32_t, napi_int32_array>(info[5], count, "errors");
    Batch b(buf, slot, count, 0, false);
    for (size_t i = 0; i < count; i++) { /* the destination comes from the packet's own IP header */
      uint8_t* p = buf + i * slot;
      b.iov[i].iov_len = lengths[i] < slot ? lengths[i] : slot;
      if (sock.family == 4) {
        auto* sa = reinterpret_cast<sockaddr_in*>(&b.names[i]);
        sa->sin_family = AF_INET;
        memcpy(&sa->sin_addr, p + 16, 4);
        b.msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      } else {
        b.names[i].sin6_family = AF_INET6;
        memcpy(&b.names[i].sin6_addr, p + 24, 16);
      }
    }
    size_t done = 0;
    while (done < count) {
      int n = sendmmsg(I32(info, 0), &b.msgs[done], count - done, MSG_DONTWAIT);
      if (n > 0) {
        for (int i = 0; i < n; i++) errors[done + i] = 0;
        done += n;
        continue;
      }
      int e = n < 0 ? errno : EIO;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) break;
      errors[done++] = e; /* this packet cannot leave (EMSGSIZE, ENETUNREACH, EPERM, ...) */
    }
    return Napi::Number::New(env, static_cast<double>(done));
  }

  /** startPolling(fd, events, onEvent(events)): (re)starts a uv_poll on the fd. */
  Napi::Value StartPolling(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Sock& sock = Find(info);
    int events = I32(info, 1) & (UV_READABLE | UV_WRITABLE);
    if (!info[2].IsFunction()) throw Napi::TypeError::New(env, "startPolling: onEvent must be a function");
    if (sock.poll == nullptr) {
      uv_loop_t* loop;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "startPolling: no event loop");
      auto* s = new PollState{env, {}, nullptr, {}};
      int rc = uv_poll_init(loop, &s->handle, I32(info, 0));
      if (rc != 0) {
        delete s;
        throw SysError(env, "uv_poll_init", -rc);
      }
      s->handle.data = s;
      s->context = std::make_unique<Napi::AsyncContext>(env, "mptcp:rawSocketPoll");
      sock.poll = s;
    }
    sock.poll->callback = Napi::Persistent(info[2].As<Napi::Function>());
    int rc = uv_poll_start(&sock.poll->handle, events, OnPoll);
    if (rc != 0) throw SysError(env, "uv_poll_start", -rc);
    return env.Undefined();
  }

  /** Safe inside the poll callback: the state and its async context die in uv_close's callback. */
  static void StopPoll(Sock& sock) {
    if (sock.poll == nullptr) return;
    uv_poll_stop(&sock.poll->handle);
    sock.poll->callback.Reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&sock.poll->handle), [](uv_handle_t* h) {
      auto* s = static_cast<PollState*>(h->data);
      Napi::HandleScope scope(Napi::Env(s->env));
      delete s;
    });
    sock.poll = nullptr;
  }

  Napi::Value StopPolling(const Napi::CallbackInfo& info) {
    StopPoll(Find(info));
    return info.Env().Undefined();
  }

  /** close(fd): stops polling and closes the socket; closing an unknown fd is a no-op. */
  Napi::Value Close(const Napi::CallbackInfo& info) {
    auto it = socks_.find(I32(info, 0));
    if (it != socks_.end()) {
      StopPoll(it->second);
      ::close(it->first);
      socks_.erase(it);
    }
    return info.Env().Undefined();
  }
};

}  // namespace

NODE_API_ADDON(RawAddon)
