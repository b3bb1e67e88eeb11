// Journal records: magic, length, CRC-32 (zlib), then a typed payload.
#include "io/journal.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "base/error.hpp"
#include "io/trial_codec.hpp"

namespace cs::io {

namespace {

// Format 5: results carry the GPU they ran on and the NVML cross-check (4: model and test accuracy;
// 3: attempt, stall and Slurm ids; retried attempts have their own record).
constexpr char kFileMagic[] = "CSJOURNAL5\n";
constexpr char kFormatPrefix[] = "CSJOURNAL";
constexpr std::size_t kFileMagicLen = sizeof(kFileMagic) - 1;
constexpr std::uint32_t kRecordMagic = 0x4a525343;  // "CSRJ"
constexpr std::uint8_t kStudyRecord = 1;
constexpr std::uint8_t kResultRecord = 2;
constexpr std::uint8_t kAttemptRecord = 3;
constexpr std::size_t kRecordHeader = 12;

std::uint32_t checksum(const std::byte* data, std::size_t n) {
  return static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(n)));
}

void write_all(int fd, const void* data, std::size_t n, const std::string& path) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw IoError(fmt::format("{}: cannot write the journal: {}", path, std::strerror(errno)));
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace

JournalContents read_journal(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(fmt::format("{}: cannot open the journal", path));
  const std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (raw.size() < kFileMagicLen || std::memcmp(raw.data(), kFileMagic, kFileMagicLen) != 0) {
    if (raw.size() >= kFileMagicLen && std::memcmp(raw.data(), kFormatPrefix, sizeof(kFormatPrefix) - 1) == 0) {
      throw IoError(
          fmt::format("{}: written by another carbonsweep version (journal format {}, this build writes {}); "
                      "finish that run with its own build, or start afresh with --force",
                      path, raw[kFileMagicLen - 2], kFileMagic[kFileMagicLen - 2]));
    }
    throw IoError(fmt::format("{}: not a carbonsweep journal", path));
  }
  const auto* bytes = reinterpret_cast<const std::byte*>(raw.data());
  JournalContents out;
  std::size_t pos = kFileMagicLen;
  std::map<std::int64_t, std::size_t> seen;  // trial id -> index in out.results
  bool have_study = false;
  while (pos + kRecordHeader <= raw.size()) {
    std::uint32_t magic = 0, length = 0, crc = 0;
    std::memcpy(&magic, bytes + pos, 4);
    std::memcpy(&length, bytes + pos + 4, 4);
    std::memcpy(&crc, bytes + pos + 8, 4);
    if (magic != kRecordMagic || length == 0 || pos + kRecordHeader + length > raw.size()) break;
    const std::byte* payload = bytes + pos + kRecordHeader;
    if (checksum(payload, length) != crc) break;
    try {
      ByteReader rd(std::span(payload + 1, length - 1));
      if (payload[0] == std::byte{kStudyRecord}) {
        out.study_toml = rd.get_string();
        have_study = true;
      } else if (payload[0] == std::byte{kResultRecord}) {
        auto r = get_result(rd);
        const auto [it, fresh] = seen.try_emplace(r.spec.id, out.results.size());
        if (fresh) {
          out.results.push_back(std::move(r));
        } else if (out.results[it->second].status == search::TrialStatus::kInterrupted) {
          out.attempts.push_back(std::exchange(out.results[it->second], std::move(r)));  // resumed and run again
        }
      } else if (payload[0] == std::byte{kAttemptRecord}) {
        out.attempts.push_back(get_result(rd));
      } else {
        break;
      }
    } catch (const IoError&) {
      break;
    }
    pos += kRecordHeader + length;
  }
  if (!have_study) throw IoError(fmt::format("{}: the journal has no study header", path));
  out.valid_bytes = pos;
  out.torn_bytes = raw.size() - pos;
  return out;
}

Journal Journal::create(const std::string& path, const std::string& study_toml) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IoError(fmt::format("{}: cannot create the journal: {}", path, std::strerror(errno)));
  Journal j(path, fd);
  write_all(fd, kFileMagic, kFileMagicLen, path);
  ByteWriter w;
  w.put(study_toml);
  j.write_record(kStudyRecord, w.take());
  j.sync();
  return j;
}

Journal Journal::reopen(const std::string& path, std::uint64_t valid_bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(fmt::format("{}: cannot open the journal: {}", path, std::strerror(errno)));
  Journal j(path, fd);
  if (::ftruncate(fd, static_cast<off_t>(valid_bytes)) != 0 || ::lseek(fd, 0, SEEK_END) < 0) {
    throw IoError(fmt::format("{}: cannot cut the journal to its valid records: {}", path, std::strerror(errno)));
  }
  j.sync();
  return j;
}

Journal& Journal::operator=(Journal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::write_record(std::uint8_t type, const std::vector<std::byte>& body) {
  std::vector<std::byte> record(kRecordHeader + 1 + body.size());
  const auto length = static_cast<std::uint32_t>(1 + body.size());
  record[kRecordHeader] = std::byte{type};
  if (!body.empty()) std::memcpy(record.data() + kRecordHeader + 1, body.data(), body.size());
  const std::uint32_t crc = checksum(record.data() + kRecordHeader, length);
  std::memcpy(record.data(), &kRecordMagic, 4);
  std::memcpy(record.data() + 4, &length, 4);
  std::memcpy(record.data() + 8, &crc, 4);
  // One write() per record, so that a kill leaves at most one torn record at the end.
  write_all(fd_, record.data(), record.size(), path_);
}

void Journal::append(const TrialResult& result) {
  ByteWriter w;
  put_result(w, result);
  write_record(kResultRecord, w.take());
}

void Journal::append_attempt(const TrialResult& attempt) {
  ByteWriter w;
  put_result(w, attempt);
  write_record(kAttemptRecord, w.take());
}

void Journal::sync() {
  if (::fdatasync(fd_) != 0) throw IoError(fmt::format("{}: fdatasync failed: {}", path_, std::strerror(errno)));
}

}  // namespace cs::io
