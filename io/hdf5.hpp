// RAII handles and checked calls for the HDF5 C API, plus compound tables built at run time.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace cs::io::h5 {

/// Owns one HDF5 id and closes it with the matching H5*close.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t), const std::string& what);
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  void reset() noexcept;

 private:
  hid_t id_ = H5I_INVALID_HID;
  herr_t (*close_)(hid_t) = nullptr;
};

/// Throws IoError naming `what` when an HDF5 call returned a negative status.
void check(herr_t status, const std::string& what);

/// Turns off HDF5's own error printing for this process, so that errors reach users once, as ours.
void silence_error_stack();

/// "hdf5 1.10.8"
std::string library_version();

enum class ColumnType { kInt64, kInt32, kFloat64, kString };

struct Column {
  std::string name;
  ColumnType type = ColumnType::kFloat64;
  std::string units;        ///< "J", "s", "1" for dimensionless, "" for text and ids
  std::size_t str_len = 0;  ///< fixed length of a kString column, terminator included
};

/// A row-major compound table in the exact memory layout HDF5 reads and writes.
class Table {
 public:
  explicit Table(std::vector<Column> columns);
  const std::vector<Column>& columns() const { return columns_; }
  std::size_t rows() const { return rows_; }
  std::size_t row_size() const { return row_size_; }
  std::size_t column_index(const std::string& name) const;  ///< throws IoError when absent

  void add_row();
  void set(std::size_t col, std::int64_t v);
  void set(std::size_t col, double v);
  void set(std::size_t col, const std::string& v);  ///< truncated to the column's length
  std::int64_t get_int(std::size_t row, std::size_t col) const;
  double get_double(std::size_t row, std::size_t col) const;
  std::string get_string(std::size_t row, std::size_t col) const;

  std::byte* data() { return bytes_.data(); }
  const std::byte* data() const { return bytes_.data(); }
  void resize_rows(std::size_t rows);
  /// The HDF5 compound type matching the memory layout.
  Handle make_type() const;

 private:
  std::byte* cell(std::size_t row, std::size_t col) { return bytes_.data() + row * row_size_ + offsets_[col]; }
  const std::byte* cell(std::size_t row, std::size_t col) const {
    return bytes_.data() + row * row_size_ + offsets_[col];
  }

  std::vector<Column> columns_;
  std::vector<std::size_t> offsets_;
  std::size_t row_size_ = 0;
  std::size_t rows_ = 0;
  std::vector<std::byte> bytes_;
};

/// An extendable, chunked, compressed compound dataset with a `units` attribute that lists one
/// unit per column in column order, written a batch of rows at a time (so that no caller needs
/// the whole table in memory).
class TableWriter {
 public:
  TableWriter(hid_t parent, const std::string& name, std::vector<Column> columns);
  /// Appends `rows`, whose columns must be the writer's.
  void append(const Table& rows);

 private:
  std::string name_;
  std::vector<Column> columns_;
  Handle type_, dataset_;
  hsize_t rows_ = 0;
};

/// One TableWriter and one append.
void write_table(hid_t parent, const std::string& name, const Table& table);
/// Reads a compound dataset written by write_table; columns come from the file.
Table read_table(hid_t parent, const std::string& name);

void write_string_attribute(hid_t object, const std::string& name, const std::string& value);
void write_int_attribute(hid_t object, const std::string& name, std::int64_t value);
std::string read_string_attribute(hid_t object, const std::string& name);
std::int64_t read_int_attribute(hid_t object, const std::string& name);
std::vector<std::string> read_string_array_attribute(hid_t object, const std::string& name);

}  // namespace cs::io::h5
