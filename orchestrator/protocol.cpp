// Little-endian, length-prefixed encoding of every message field.
#include "orchestrator/protocol.hpp"

#include <cstring>

#include <fmt/format.h>

#include "base/error.hpp"
#include "io/trial_codec.hpp"

namespace cs::orchestrator {

using io::ByteReader;
using io::ByteWriter;

namespace {
Message decode_message(std::span<const std::byte> bytes);
}  // namespace

int tag_of(const Message& message) { return static_cast<int>(message.index()) + 1; }

std::vector<std::byte> encode(const Message& message) {
  ByteWriter w;
  w.put(kProtocolVersion);
  w.put(static_cast<std::uint8_t>(tag_of(message)));
  std::visit(
      [&w](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Ready>) {
          w.put(m.rank);
        } else if constexpr (std::is_same_v<T, Assign>) {
          w.put(m.spec);
          w.put(m.attempt);
        } else if constexpr (std::is_same_v<T, Shutdown>) {
          w.put(m.reason);
        } else if constexpr (std::is_same_v<T, EpochReport>) {
          w.put(m.trial_id);
          w.put(m.record);
        } else if constexpr (std::is_same_v<T, ResultReport>) {
          io::put_result(w, m.result);
        } else if constexpr (std::is_same_v<T, Goodbye>) {
          w.put(m.rank);
          w.put(m.reason);
        } else if constexpr (std::is_same_v<T, Decision>) {
          w.put(m.trial_id);
          w.put(static_cast<std::uint8_t>(m.stop));
        } else if constexpr (std::is_same_v<T, Heartbeat>) {
          w.put(m.rank);
        } else if constexpr (std::is_same_v<T, Interrupt>) {
          w.put(m.trial_id);
        } else {
          w.put(m.signal);
        }
      },
      message);
  return w.take();
}

Message decode(std::span<const std::byte> bytes) {
  try {
    return decode_message(bytes);
  } catch (const IoError& e) {
    throw MpiError(fmt::format("protocol: {}", e.what()));
  }
}

namespace {
Message decode_message(std::span<const std::byte> bytes) {
  ByteReader rd(bytes);
  const auto version = rd.get<std::uint8_t>();
  if (version != kProtocolVersion) {
    throw MpiError(
        fmt::format("protocol: message of version {}, this build speaks {}; run one carbonsweep build on "
                    "every rank",
                    version, kProtocolVersion));
  }
  Message m;
  switch (rd.get<std::uint8_t>()) {
    case 1: m = Ready{rd.get<std::int32_t>()}; break;
    case 2: {
      auto spec = rd.get_spec();
      m = Assign{std::move(spec), rd.get<std::int32_t>()};
      break;
    }
    case 3: m = Shutdown{rd.get_string()}; break;
    case 4: {
      const auto id = rd.get<std::int64_t>();
      m = EpochReport{id, rd.get_epoch()};
      break;
    }
    case 5: m = ResultReport{io::get_result(rd)}; break;
    case 6: {
      const auto rank = rd.get<std::int32_t>();
      m = Goodbye{rank, rd.get_string()};
      break;
    }
    case 7: {
      const auto id = rd.get<std::int64_t>();
      m = Decision{id, rd.get<std::uint8_t>() != 0};
      break;
    }
    case 8: m = Heartbeat{rd.get<std::int32_t>()}; break;
    case 9: m = Interrupt{rd.get<std::int64_t>()}; break;
    case 10: m = Signalled{rd.get<std::int32_t>()}; break;
    default: throw MpiError("protocol: unknown message type");
  }
  if (!rd.done()) throw MpiError("protocol: trailing bytes after the message");
  return m;
}

}  // namespace

}  // namespace cs::orchestrator
