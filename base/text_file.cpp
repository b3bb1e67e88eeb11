// zlib's gz* functions read gzip and plain files alike.
#include "base/text_file.hpp"

#include <zlib.h>

#include <memory>

#include <fmt/format.h>

#include "base/error.hpp"

namespace cs {

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

}  // namespace

std::string read_text_file(const std::string& path, const std::string& what, std::size_t max_bytes) {
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) throw ConfigError(fmt::format("{}: cannot open the {}", path, what));
  std::string text;
  char buffer[1 << 16];
  for (;;) {
    const int n = gzread(file.get(), buffer, sizeof buffer);
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      throw ConfigError(fmt::format("{}: the {} is corrupt or truncated ({})", path, what, message));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) {
      throw ConfigError(
          fmt::format("{}: the {} holds more than {} MiB of text; is it the right file?", path, what, max_bytes >> 20));
    }
  }
  // gzread returns 0 at a gzip stream cut short as well: zlib reports it through gzerror.
  int code = Z_OK;
  gzerror(file.get(), &code);
  if (code != Z_OK && code != Z_STREAM_END) {
    throw ConfigError(fmt::format("{}: the {} is truncated gzip data", path, what));
  }
  return text;
}

}  // namespace cs
