// Reading a whole text file that may be gzip-compressed (traces ship as .csv.gz).
#pragma once

#include <cstddef>
#include <string>

namespace cs {

/// The file's text, decompressed when it is gzip data (plain files are read as they are).
/// Throws ConfigError naming the path when it cannot be opened, is truncated or corrupt
/// gzip data, or holds more than `max_bytes` of text (so that a wrong file cannot exhaust
/// memory); `what` names the file's role in the message ("carbon-intensity trace").
std::string read_text_file(const std::string& path, const std::string& what, std::size_t max_bytes = 256u << 20);

}  // namespace cs
