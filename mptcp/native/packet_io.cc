/**
 * mptcp_packet: the smallest native layer the lab's link emulator (test/lab/emulator) needs.
 * It opens AF_PACKET sockets bound to one interface, moves batches of whole Ethernet frames with
 * recvmmsg/sendmmsg between those sockets and slots of a caller-owned packet pool (no copies,
 * one JS call per batch), offers timerfd timers for sub-millisecond deadlines, and reports
 * readiness of either kind of fd through a uv_poll handle on Node's event loop. All shaping logic
 * lives in TypeScript (test/lab/emulator/shaper.ts). Used from the JS main thread only.
 *
 * Pool layout: a Uint8Array of `slotSize`-byte slots; slot k holds one frame at
 * [k * slotSize, k * slotSize + length). recvInto/sendFrom take the slot numbers to use, so the
 * emulator can hold frames in place while they wait in its queues.
 */
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23 /* Linux >= 4.20 */
#endif

namespace {

constexpr size_t kMaxBatch = 1024;
constexpr size_t kCtrlSize = 64; /* room for one SCM_TIMESTAMPNS */

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
  int events;
  Napi::FunctionReference callback;
  std::unique_ptr<Napi::AsyncContext> context;
  uv_poll_t handle;
};

enum class Kind { Packet, Timer };

struct Fd {
  Kind kind;
  PollState* poll = nullptr;
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
  // libuv stops a poll handle on POLLERR. A packet socket reports ENETDOWN that way when its
  // interface goes down (the callback's recvInto consumed it); keep watching, as the socket
  // receives again once the interface is back up.
  if (status < 0 && !uv_is_closing(reinterpret_cast<uv_handle_t*>(h))) uv_poll_start(h, s->events, OnPoll);
}

class PacketAddon : public Napi::Addon<PacketAddon> {
 public:
  PacketAddon(Napi::Env, Napi::Object exports) {
    DefineAddon(exports, {InstanceMethod("openPacket", &PacketAddon::OpenPacket), InstanceMethod("recvInto", &PacketAddon::RecvInto),
                          InstanceMethod("sendFrom", &PacketAddon::SendFrom), InstanceMethod("timerCreate", &PacketAddon::TimerCreate),
                          InstanceMethod("timerArm", &PacketAddon::TimerArm), InstanceMethod("startPolling", &PacketAddon::StartPolling),
                          InstanceMethod("stopPolling", &PacketAddon::StopPolling), InstanceMethod("close", &PacketAddon::Close)});
    msgs_.resize(kMaxBatch);
    iov_.resize(kMaxBatch);
    ctrl_.resize(kMaxBatch * kCtrlSize);
  }

 private:
  std::unordered_map<int, Fd> fds_;
  std::vector<mmsghdr> msgs_; /* reused by every batch: no allocation per call */
  std::vector<iovec> iov_;
  std::vector<char> ctrl_;

  Fd& Find(const Napi::CallbackInfo& info, Kind kind) {
    auto it = fds_.find(I32(info, 0));
    if (it == fds_.end() || it->second.kind != kind) throw Napi::Error::New(info.Env(), "packet_io: unknown or closed fd");
    return it->second;
  }

  /** Points msgs_[0..count) at the pool slots named by `slots` (whole slots when no lengths). */
  void Aim(uint8_t* pool, size_t poolBytes, size_t slot, const uint32_t* slots, const uint32_t* lengths, size_t count, Napi::Env env) {
    for (size_t i = 0; i < count; i++) {
      size_t off = static_cast<size_t>(slots[i]) * slot;
      if (off + slot > poolBytes) throw Napi::RangeError::New(env, "packet_io: slot number outside the pool");
      size_t len = lengths == nullptr ? slot : (lengths[i] < slot ? lengths[i] : slot);
      iov_[i] = {pool + off, len};
      msgs_[i].msg_hdr = {};
      msgs_[i].msg_hdr.msg_iov = &iov_[i];
      msgs_[i].msg_hdr.msg_iovlen = 1;
      msgs_[i].msg_len = 0;
    }
  }

  /**
   * openPacket(ifname, bufferBytes): fd. An AF_PACKET SOCK_RAW socket receiving every protocol
   * (ETH_P_ALL) on that interface only, not its own transmissions (PACKET_IGNORE_OUTGOING).
   * Created with protocol 0 so it sees nothing until bound to the interface.
   */
  Napi::Value OpenPacket(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "openPacket: ifname must be a string");
    std::string dev = info[0].As<Napi::String>().Utf8Value();
    int bufBytes = I32(info, 1);
    unsigned ifindex = if_nametoindex(dev.c_str());
    if (ifindex == 0) throw SysError(env, "if_nametoindex(" + dev + ")", errno);
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw SysError(env, "socket(AF_PACKET)", errno);
    auto check = [&](int rc, const char* step) {
      if (rc == 0) return;
      int e = errno;
      ::close(fd);
      throw SysError(env, step, e);
    };
    int one = 1;
    check(setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one), "setsockopt(PACKET_IGNORE_OUTGOING)");
    check(setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one), "setsockopt(SO_TIMESTAMPNS)");
    if (bufBytes > 0) { /* FORCE needs CAP_NET_ADMIN and passes rmem_max/wmem_max; else best effort */
      if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufBytes, sizeof bufBytes) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufBytes, sizeof bufBytes);
      if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufBytes, sizeof bufBytes) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufBytes, sizeof bufBytes);
    }
    sockaddr_ll sa = {};
    sa.sll_family = AF_PACKET;
    sa.sll_protocol = htons(ETH_P_ALL);
    sa.sll_ifindex = static_cast<int>(ifindex);
    check(bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), "bind(AF_PACKET)");
    fds_[fd] = Fd{Kind::Packet};
    return Napi::Number::New(env, fd);
  }

  /**
   * recvInto(fd, pool, slotSize, slots, count, lengths, ages): n. One recvmmsg(MSG_DONTWAIT) of
   * up to `count` frames, frame i into slot slots[i]; lengths[i] = its length, or 0 when it was
   * larger than a slot; ages[i] = ms since the kernel received it (SO_TIMESTAMPNS; 0 when
   * unknown), so the caller's clock can ignore its own wakeup latency. Returns the number
   * received (0 when none waits) or -errno.
   */
  Napi::Value RecvInto(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = I32(info, 0);
    Find(info, Kind::Packet);
    size_t poolBytes, slot = I32(info, 2), count = I32(info, 4);
    uint8_t* pool = Array<uint8_t, napi_uint8_array>(info[1], 0, "pool", &poolBytes);
    if (slot == 0 || count == 0 || count > kMaxBatch) throw Napi::RangeError::New(env, "recvInto: bad slot size or count");
    uint32_t* slots = Array<uint32_t, napi_uint32_array>(info[3], count, "slots");
    uint32_t* lengths = Array<uint32_t, napi_uint32_array>(info[5], count, "lengths");
    double* ages = Array<double, napi_float64_array>(info[6], count, "ages");
    Aim(pool, poolBytes, slot, slots, nullptr, count, env);
    for (size_t i = 0; i < count; i++) {
      msgs_[i].msg_hdr.msg_control = &ctrl_[i * kCtrlSize];
      msgs_[i].msg_hdr.msg_controllen = kCtrlSize;
    }
    int n;
    do n = recvmmsg(fd, msgs_.data(), count, MSG_DONTWAIT | MSG_TRUNC, nullptr);
    while (n < 0 && errno == EINTR);
    if (n < 0) return Napi::Number::New(env, errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno);
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now); /* SO_TIMESTAMPNS stamps are CLOCK_REALTIME */
    for (int i = 0; i < n; i++) {
      msghdr& m = msgs_[i].msg_hdr;
      bool truncated = (m.msg_flags & MSG_TRUNC) != 0 || msgs_[i].msg_len > slot;
      lengths[i] = truncated ? 0 : msgs_[i].msg_len;
      ages[i] = 0;
      for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
        timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        double age = (now.tv_sec - ts.tv_sec) * 1e3 + (now.tv_nsec - ts.tv_nsec) / 1e6;
        ages[i] = age > 0 && age < 1000 ? age : 0; /* ignore clock steps */
      }
    }
    return Napi::Number::New(env, n);
  }

  /**
   * sendFrom(fd, pool, slotSize, slots, count, lengths, errors): consumed. Sends frame i from
   * slot slots[i] with length lengths[i] out of the bound interface (sendmmsg, MSG_DONTWAIT).
   * errors[i] = 0 when it left, else its errno (the frame is dropped). Returns less than
   * `count` only when the socket buffer is full (EAGAIN): retry the rest when writable.
   */
  Napi::Value SendFrom(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = I32(info, 0);
    Find(info, Kind::Packet);
    size_t poolBytes, slot = I32(info, 2), count = I32(info, 4);
    uint8_t* pool = Array<uint8_t, napi_uint8_array>(info[1], 0, "pool", &poolBytes);
    if (slot == 0 || count == 0 || count > kMaxBatch) throw Napi::RangeError::New(env, "sendFrom: bad slot size or count");
    uint32_t* slots = Array<uint32_t, napi_uint32_array>(info[3], count, "slots");
    uint32_t* lengths = Array<uint32_t, napi_uint32_array>(info[5], count, "lengths");
    int32_t* errors = Array<int32_t, napi_int32_array>(info[6], count, "errors");
    Aim(pool, poolBytes, slot, slots, lengths, count, env);
    size_t done = 0;
    while (done < count) {
      int n = sendmmsg(fd, &msgs_[done], count - done, MSG_DONTWAIT);
      if (n > 0) {
        for (int i = 0; i < n; i++) errors[done + i] = 0;
        done += n;
        continue;
      }
      int e = n < 0 ? errno : EIO;
      if (e == EINTR) continue;
      if (e == EAGAIN || e == EWOULDBLOCK) break;
      errors[done++] = e; /* this frame cannot leave (EMSGSIZE, ENETDOWN, ENOBUFS...) */
    }
    return Napi::Number::New(env, static_cast<double>(done));
  }

  /** timerCreate(): fd of a non-blocking CLOCK_MONOTONIC timerfd, readable when it expires. */
  Napi::Value TimerCreate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0) throw SysError(env, "timerfd_create", errno);
    fds_[fd] = Fd{Kind::Timer};
    return Napi::Number::New(env, fd);
  }

  /**
   * timerArm(fd, delayMs): clears a pending expiry, then fires once after delayMs (fractions
   * allowed; <= 0 fires at once). Infinity or NaN leaves it disarmed.
   */
  Napi::Value TimerArm(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    int fd = I32(info, 0);
    Find(info, Kind::Timer);
    if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "timerArm: delayMs must be a number");
    double ms = info[1].As<Napi::Number>().DoubleValue();
    uint64_t expirations;
    while (read(fd, &expirations, sizeof expirations) > 0) {
    }
    itimerspec spec = {};
    if (ms == ms && ms < 1e12) { /* finite: arm; NaN and Infinity leave it disarmed */
      long long ns = ms <= 0 ? 1 : static_cast<long long>(ms * 1e6);
      if (ns < 1) ns = 1;
      spec.it_value.tv_sec = ns / 1000000000LL;
      spec.it_value.tv_nsec = ns % 1000000000LL;
    }
    if (timerfd_settime(fd, 0, &spec, nullptr) != 0) throw SysError(env, "timerfd_settime", errno);
    return env.Undefined();
  }

  /** startPolling(fd, events, onEvent(events)): (re)starts a uv_poll on the fd. */
  Napi::Value StartPolling(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto it = fds_.find(I32(info, 0));
    if (it == fds_.end()) throw Napi::Error::New(env, "packet_io: unknown or closed fd");
    Fd& f = it->second;
    int events = I32(info, 1) & (UV_READABLE | UV_WRITABLE);
    if (!info[2].IsFunction()) throw Napi::TypeError::New(env, "startPolling: onEvent must be a function");
    if (f.poll == nullptr) {
      uv_loop_t* loop;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "startPolling: no event loop");
      auto* s = new PollState{env, 0, {}, nullptr, {}};
      int rc = uv_poll_init(loop, &s->handle, it->first);
      if (rc != 0) {
        delete s;
        throw SysError(env, "uv_poll_init", -rc);
      }
      s->handle.data = s;
      s->context = std::make_unique<Napi::AsyncContext>(env, "mptcp:packetPoll");
      f.poll = s;
    }
    f.poll->callback = Napi::Persistent(info[2].As<Napi::Function>());
    f.poll->events = events;
    int rc = uv_poll_start(&f.poll->handle, events, OnPoll);
    if (rc != 0) throw SysError(env, "uv_poll_start", -rc);
    return env.Undefined();
  }

  /** Safe inside the poll callback: the state and its async context die in uv_close's callback. */
  static void StopPoll(Fd& f) {
    if (f.poll == nullptr) return;
    uv_poll_stop(&f.poll->handle);
    f.poll->callback.Reset();
    uv_close(reinterpret_cast<uv_handle_t*>(&f.poll->handle), [](uv_handle_t* h) {
      auto* s = static_cast<PollState*>(h->data);
      Napi::HandleScope scope(Napi::Env(s->env));
      delete s;
    });
    f.poll = nullptr;
  }

  Napi::Value StopPolling(const Napi::CallbackInfo& info) {
    auto it = fds_.find(I32(info, 0));
    if (it != fds_.end()) StopPoll(it->second);
    return info.Env().Undefined();
  }

  /** close(fd): stops polling and closes a packet socket or timer; unknown fds are ignored. */
  Napi::Value Close(const Napi::CallbackInfo& info) {
    auto it = fds_.find(I32(info, 0));
    if (it != fds_.end()) {
      StopPoll(it->second);
      ::close(it->first);
      fds_.erase(it);
    }
    return info.Env().Undefined();
  }
};

}  // namespace

NODE_API_ADDON(PacketAddon)
